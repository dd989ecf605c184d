"""Keeping a local sign-in across a reload (F5): a signed, expiring session cookie.

At sign-in `remember` opens a session (`riskmap.service.sessions`, audited) and the
browser is given a cookie with its signed token; at the next page load `restore` reads
it (`st.context.cookies`, sent with the page's own request) and signs the same user in
again if the service still accepts the session. Signing out ends the session (its
token is refused from then on, wherever it was copied) and deletes the cookie; disabling
the account refuses it too. OpenID Connect sign-ins keep `st.login`'s own cookie. The
walk-through's unsaved drafts are kept in the server's memory by session id, so a reload
takes them back too (`keep_drafts`).

The cookie is written and deleted by a maintained component (extra-streamlit-components'
cookie manager), never by JavaScript of ours. It is `SameSite=Strict` (and `Secure` over
HTTPS), and its token is signed with `RISKMAP_SESSION_SECRET` (or `[riskmap]
session_secret` in the secrets file); without one, a random secret of the server process
is used, so sessions then last until the server restarts.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

import streamlit as st

from riskmap.service.sessions import end_session, open_session, session_user, sign
from riskmap.ui import state

COOKIE = "riskmap_session"
SID_KEY = "session-id"
SET_KEY = "session-cookie-set"  # a cookie value waiting to be written by the browser
DELETE_KEY = "session-cookie-delete"  # the cookie waiting to be deleted (signed out)

ss = st.session_state


@st.cache_resource(show_spinner=False)
def _process_secret() -> bytes:
    return secrets.token_bytes(32)


def secret() -> bytes:
    configured = os.environ.get("RISKMAP_SESSION_SECRET", "")
    if not configured:
        try:
            configured = str((st.secrets.get("riskmap") or {}).get("session_secret", ""))
        except Exception:  # no secrets file  # noqa: BLE001
            configured = ""
    return configured.encode() if configured else _process_secret()


@st.cache_resource(show_spinner=False)
def _drafts() -> dict[str, dict]:
    """Unsaved drafts by session id, in the server's memory: a reload opens a new browser
    session, which takes them back (they are never written to the database)."""
    return {}


def keep_drafts(values: dict) -> None:
    """Keep this session's unsaved drafts for a reload (the page calls it every run)."""
    sid = ss.get(SID_KEY)
    if sid:
        _drafts()[sid] = dict(values)


def remember(username: str) -> None:
    """After a local sign-in: open a session and have the browser keep its cookie."""
    token = open_session(state.service(), username)
    state.after_write()
    ss[SID_KEY] = token.sid
    ss[SET_KEY] = (sign(token, secret()), token.expires)


def restore() -> dict | None:
    """Sign in again the user whose session cookie came with this page load, if the
    session is still open, unexpired and the account active; else None."""
    if ss.get(DELETE_KEY):
        return None
    found = session_user(state.service(), st.context.cookies.get(COOKIE), secret())
    if found is None:
        return None
    user, sid = found
    ss[SID_KEY] = sid
    for key, value in _drafts().get(sid, {}).items():
        ss.setdefault(key, value)
    return state.sign_in_as(user)


def sign_out() -> None:
    """End the session (refused from now on), forget the browser session, delete the cookie."""
    sid, who = ss.get(SID_KEY), state.actor()
    if sid and who:
        end_session(state.service(), who, sid)
        state.after_write()
        _drafts().pop(sid, None)
    state.sign_out()
    ss[DELETE_KEY] = True


def sync() -> None:
    """Write or delete the cookie in the browser while that is pending (call every run)."""
    if SET_KEY not in ss and DELETE_KEY not in ss:
        return
    import extra_streamlit_components as stx  # only while a cookie is being written

    with st.sidebar:
        manager = stx.CookieManager(key="session-cookies")
        if SET_KEY in ss:
            value, expires = ss[SET_KEY]
            options = {
                "path": "/",
                "expires": datetime.fromtimestamp(expires, UTC).isoformat(),
                "sameSite": "strict",
                # Over HTTPS the browser sends it back only over HTTPS.
                "secure": str(st.context.url or "").startswith("https:"),
            }
            done = manager.cookie_manager(
                method="set",
                cookie=COOKIE,
                value=value,
                options=options,
                key=f"session-cookie-set-{expires}",
                default=False,
            )
            if done:
                ss.pop(SET_KEY, None)
        elif DELETE_KEY in ss:
            done = manager.cookie_manager(
                method="delete", cookie=COOKIE, key="session-cookie-delete", default=False
            )
            if done:
                ss.pop(DELETE_KEY, None)
