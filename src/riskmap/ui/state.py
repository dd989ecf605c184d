"""What every page shares: the service, the signed-in user, the cycle in view, errors.

The contract pages build on:

- `service()`: one `Service` per process and database URL (`st.cache_resource`), URL from
  `database_url()` (env `RISKMAP_DATABASE_URL`, else ./data/riskmap.sqlite).
- `current_user()`: `{"username", "role", "display_name"}` of the signed-in user (kept in
  `st.session_state["user"]`), or None.
- `require(*roles)`: call it first in every page's `render()`; stops the page with a clear
  message when nobody is signed in or the user's role is not among `roles` (no roles:
  any signed-in user). Hiding a page in the menu is not access control.
- `cycle_in_view()`: label of the cycle chosen in the sidebar (`st.session_state["cycle"]`).
- `read(use_case, *args, **kwargs)`: a read use case run as the signed-in user, cached with
  `st.cache_data` per database, user, arguments and data version (the latest audit event's
  id, so a change made anywhere, even by the command line, is seen at the next run);
  `after_write()` clears those caches after a write (call it after every successful write;
  `write(use_case, ...)` does).
- `show_error(exc)`: a domain error in words an officer understands; a `ConflictError`
  shows what changed and who saved it, with a Reload button (never overwrites).
- `can(use_case)`: whether the signed-in user's role may run a use case (from the service's
  own role table, so the page and the service never disagree).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

import riskmap.service as svc_mod
from riskmap import vocabulary
from riskmap.catalogue import Catalogue, load_catalogue
from riskmap.service import (
    USE_CASES,
    ConflictError,
    CycleLocked,
    DomainError,
    NotFound,
    PermissionDenied,
    Service,
    ValidationError,
    WorkflowError,
    database_url,
)
from riskmap.service.core import MINISTRY_WIDE

USER_KEY = "user"
CYCLE_KEY = "cycle"
READ_TTL_SECONDS = 120


# -- the service -----------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _catalogue() -> Catalogue:
    """The catalogue in force, loaded and validated once per process."""
    return load_catalogue()


@st.cache_resource(show_spinner=False)
def _service_for(url: str) -> Service:
    return Service.open(url, catalogue=_catalogue())


def service() -> Service:
    """The process's service for the configured database (opened and migrated once)."""
    return _service_for(database_url())


def organisation_info() -> dict[str, Any]:
    """Name and demo flag of the organisation, and the demo accounts (before sign-in too).

    Not a use case (nobody is signed in yet on the sign-in page); it reveals only what the
    sign-in page shows anyway.
    """
    return _organisation_info(database_url())


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def _organisation_info(url: str) -> dict[str, Any]:
    return svc_mod.organisation_info(_service_for(url))


# -- the signed-in user ----------------------------------------------------------------


def current_user() -> dict | None:
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, dict) and user.get("username") else None


def sign_in_as(user: Any) -> dict:
    """Keep `user` (a `User` row or a dict) as the signed-in user of this browser session."""
    get = user.get if isinstance(user, dict) else lambda k, d=None: getattr(user, k, d)
    info = {
        "username": get("username"),
        "role": get("role"),
        "display_name": get("display_name") or get("username"),
    }
    st.session_state[USER_KEY] = info
    return info


def sign_out() -> None:
    """Forget everything of this browser session (the signed-in user, edits, choices)."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def refresh_user() -> dict | None:
    """Re-read the signed-in user's role and status: a role change or a disabled account
    applies at the next click, not at the next sign-in."""
    user = current_user()
    if user is None:
        return None
    account = svc_mod.active_account(service(), user["username"])
    if account is None:
        sign_out()
        return None
    if account["role"] != user["role"] or account["display_name"] != user["display_name"]:
        return sign_in_as(account)
    return user


def actor() -> str:
    user = current_user()
    return user["username"] if user else ""


def role() -> str | None:
    user = current_user()
    return user["role"] if user else None


def can(use_case: str | Callable) -> bool:
    """Whether the signed-in user may run `use_case` (a name or the function): their role,
    and their scope for a use case of the whole ministry."""
    name = use_case if isinstance(use_case, str) else use_case.__name__
    r = role()
    if r is None or r not in USE_CASES.get(name, frozenset()):
        return False
    # A step of the whole ministry (submit, approve, lock a cycle; store the plan) is
    # offered only to someone whose scope is the whole ministry: the service refuses others.
    return name not in MINISTRY_WIDE or read("my_scope").whole


def role_label(r: str | None) -> str:
    """A role in words: `riskmap.vocabulary` is the one home of the labels."""
    return vocabulary.role_label(r)


def require(*roles: str) -> dict:
    """The signed-in user, if allowed here; otherwise an error on the page and `st.stop()`."""
    user = current_user()
    if user is None:
        st.error("Please sign in to see this page.")
        st.stop()
    if roles and user["role"] not in roles:
        allowed = ", ".join(role_label(r) for r in roles)
        st.error(
            f"This page is not open to your role ({role_label(user['role'])}). "
            f"It is for: {allowed}. Ask an administrator if you need access."
        )
        st.stop()
    return user


# -- the cycle in view -----------------------------------------------------------------


def cycle_in_view() -> str | None:
    label = st.session_state.get(CYCLE_KEY)
    return str(label) if label else None


def require_cycle() -> str:
    """The cycle in view, or an info message and `st.stop()` when there is none yet."""
    label = cycle_in_view()
    if label is None:
        st.info(
            "There is no assessment cycle yet. An integrity officer starts one on the Cycle page."
        )
        st.stop()
    return label


# -- reads and writes ------------------------------------------------------------------


@st.cache_data(ttl=READ_TTL_SECONDS, max_entries=512, show_spinner=False)
def _cached_read(
    url: str, username: str, data_version: int, name: str, args: tuple, kwargs: tuple
) -> Any:
    fn = getattr(svc_mod, name)
    return fn(_service_for(url), username, *args, **dict(kwargs))


def data_version() -> int:
    """The id of the latest audit event: every change (from any page, session or the
    command line) is audited, so a cached read keyed by it is never stale."""
    return svc_mod.data_version(service(), actor())


def read(use_case: str | Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a read use case (e.g. `read("register", cycle)`) as the signed-in user, cached
    per database, user, arguments and data version."""
    name = use_case if isinstance(use_case, str) else use_case.__name__
    key = (tuple(args), tuple(sorted(kwargs.items())))
    return _cached_read(database_url(), actor(), data_version(), name, *key)


def call(use_case: str | Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a use case as the signed-in user, uncached (e.g. a check of an uploaded file)."""
    fn = getattr(svc_mod, use_case) if isinstance(use_case, str) else use_case
    return fn(service(), actor(), *args, **kwargs)


def write(use_case: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a write use case as the signed-in user; on success clear the read caches."""
    result = use_case(service(), actor(), *args, **kwargs)
    after_write()
    return result


def after_write() -> None:
    """Forget every cached read: the next run shows what is in the database now."""
    st.cache_data.clear()


FLASH_KEY = "flash"


def scope_line() -> None:
    """The line "You see 6 of 24 units: region North" for a reader limited to a scope (the
    numbers are the service's `my_scope`); nothing for the whole ministry."""
    line = read("my_scope").line
    if line:
        st.caption(line)


def flash(message: str) -> None:
    """A confirmation ("Saved ...") shown once, at the top of the next run of the page."""
    st.session_state.setdefault(FLASH_KEY, []).append(message)


def write_and_rerun(key: str, done: str, use_case: Callable, *args: Any, **kwargs: Any) -> None:
    """A form's save: write, then run the page again so it shows the database as it now is.

    The confirmation `done` waits for the next run (`flash`); a domain error is kept under
    `key` for `show_kept_error` to show there, so the page's forms show their outcome alike.
    """
    try:
        write(use_case, *args, **kwargs)
    except DomainError as exc:
        st.session_state[f"{key}-exc"] = exc
    else:
        flash(done)
    st.rerun()


def show_kept_error(key: str) -> None:
    """Show (and forget) the domain error `write_and_rerun` kept under `key`, if any."""
    exc = st.session_state.pop(f"{key}-exc", None)
    if exc is not None:
        show_error(exc, key=key)


def show_flash() -> None:
    """Show (and forget) the confirmations `flash` recorded; messages are plain text."""
    from riskmap.ui.widgets import escape_md  # local: widgets imports this module

    for message in st.session_state.pop(FLASH_KEY, []):
        st.success(escape_md(message), icon=":material/check_circle:")


# -- errors ----------------------------------------------------------------------------


def forget(prefixes: Iterable[str]) -> None:
    """Drop widget values whose keys start with one of `prefixes` (they re-read the data)."""
    prefixes = tuple(prefixes)
    if not prefixes:
        return
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(prefixes):
            del st.session_state[key]


def _reload(prefixes: tuple[str, ...]) -> None:
    after_write()
    forget(prefixes)


def error_message(exc: BaseException) -> str:
    """What went wrong, in words an officer understands (plain text, no markdown)."""
    if isinstance(exc, ConflictError):
        return str(exc)
    if isinstance(exc, CycleLocked):
        return (
            f"Cycle {exc.cycle} is locked: it is the approved record and nothing in it can "
            "change. Start a new cycle to carry on."
        )
    if isinstance(exc, PermissionDenied):
        return f"Not allowed: {exc}."
    if isinstance(exc, ValidationError):
        return f"Please check {exc.field}: {str(exc).removeprefix(exc.field + ': ')}"
    if isinstance(exc, WorkflowError):
        return f"Not at this step: {exc}."
    if isinstance(exc, NotFound):
        return f"Not found: {exc}."
    if isinstance(exc, DomainError):
        return str(exc)
    return f"Something went wrong: {exc}"


def conflict_lines(exc: ConflictError, what: str) -> list[str]:
    """A refused save in an officer's words (Markdown): someone else saved `what` after it
    was opened, and per field who changed it and when. The one wording of a conflict, for
    the pages' errors and the walk-through's conflict panel."""
    from riskmap.ui.widgets import escape_md  # local: widgets imports this module

    lines = [f"**Someone else saved {escape_md(what)} after you opened it.**"]
    for field in exc.fields if exc.changes else ():
        who = sorted({c.by for c in exc.changes if c.field == field})
        when = max(c.at for c in exc.changes if c.field == field)
        lines.append(
            f"- {escape_md(field)}: changed by {escape_md(', '.join(who))} "
            f"at {escape_md(str(when)[:16].replace('T', ' '))}"
        )
    return lines


def show_error(exc: BaseException, *, key: str = "reload", forget_keys: Iterable[str] = ()) -> None:
    """Show a domain error; a conflict names what changed and who saved it, and offers
    Reload (drops cached reads and the widget values under `forget_keys`)."""
    from riskmap.ui.widgets import escape_md  # local: widgets imports this module

    if isinstance(exc, ConflictError):
        lines = conflict_lines(exc, exc.what)
        lines.append("\nNothing was overwritten. Reload to see their version, then save again.")
        st.warning("\n".join(lines), icon=":material/sync_problem:")
        st.button(
            "Reload",
            key=f"{key}-conflict",
            icon=":material/refresh:",
            on_click=_reload,
            args=(tuple(forget_keys),),
        )
        return
    st.error(escape_md(error_message(exc)), icon=":material/error:")
