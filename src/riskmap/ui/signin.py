"""Signing in: local accounts (user name and password), or an OpenID Connect provider.

Local accounts are checked by `riskmap.service.authenticate`. A deployment behind an OpenID
Connect provider configures `st.login` in `.streamlit/secrets.toml` (an `[auth]` section)
and maps the provider's e-mail addresses to riskmap roles:

1. a riskmap user whose `email` is that address signs in as that user (with the role the
   administrator gave them; a disabled user cannot sign in);
2. otherwise the `[riskmap.roles]` table of the secrets file (`"jane@ministry.example" =
   "officer"`, or a whole domain: `"@ministry.example" = "auditor"`) gives the role, and a
   riskmap account is created for that address at the first sign-in (audited);
3. any other address is refused.

`role_for_email` is that mapping as a pure function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

from riskmap.service import (
    OIDC_SIGN_IN,
    ROLES,
    DomainError,
    authenticate,
    list_users,
    provision_oidc_user,
    sign_in_hold,
)
from riskmap.ui import session_cookie, state
from riskmap.ui.widgets import escape_md

_USERNAME_CHARS = re.compile(r"[^a-z0-9._-]+")


# -- e-mail -> role (pure) -------------------------------------------------------------


def _norm(email: Any) -> str:
    return str(email or "").strip().lower()


def _get(row: Any, key: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


def user_for_email(email: str | None, users: Iterable[Any]) -> Any | None:
    """The user (mapping or object with `email`) whose e-mail is `email`, ignoring case."""
    wanted = _norm(email)
    if not wanted:
        return None
    for user in users:
        if _norm(_get(user, "email")) == wanted:
            return user
    return None


def role_for_email(
    email: str | None, mapping: Mapping[str, str] | None, users: Iterable[Any] = ()
) -> str | None:
    """The riskmap role of the person signed in with `email`, or None (refused).

    `users` (rows or mappings with `email`, `role`, `active`) come first: a user with that
    address has their own role, and a disabled one gets None whatever the mapping says.
    Then `mapping` (`[riskmap.roles]`): the exact address, else `@domain` of the address.
    Addresses compare without case and surrounding spaces; an unknown role gives None.
    """
    wanted = _norm(email)
    if not wanted or "@" not in wanted:
        return None
    user = user_for_email(wanted, users)
    if user is not None:
        if not _get(user, "active", True):
            return None
        role = _get(user, "role")
        return role if role in ROLES else None
    table = {_norm(k): str(v).strip().lower() for k, v in (mapping or {}).items()}
    role = table.get(wanted)
    if role is None:
        role = table.get("@" + wanted.rsplit("@", 1)[1])
    return role if role in ROLES else None


def username_for_email(email: str, taken: Iterable[str]) -> str:
    """A free riskmap user name made from the address's local part (`jane.doe`, `jane.doe-2`)."""
    local = _USERNAME_CHARS.sub("-", _norm(email).split("@", 1)[0]).strip("-._") or "user"
    base = local[:70] if len(local) >= 2 else f"{local}-user"
    used = set(taken)
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}-{n}"
    return name


# -- OpenID Connect ----------------------------------------------------------------------


def _secrets_section(name: str) -> Mapping[str, Any]:
    try:
        section = st.secrets.get(name)
    except Exception:  # no secrets file at all  # noqa: BLE001
        return {}
    return section if isinstance(section, Mapping) else {}


def oidc_providers() -> list[str] | None:
    """None if no `[auth]` section is configured; else the named providers (`[auth.NAME]`),
    an empty list meaning the single default provider."""
    auth = _secrets_section("auth")
    if not auth:
        return None
    return [k for k, v in auth.items() if isinstance(v, Mapping)]


def role_mapping() -> dict[str, str]:
    riskmap = _secrets_section("riskmap")
    roles = riskmap.get("roles", {}) if riskmap else {}
    return {str(k): str(v) for k, v in roles.items()} if isinstance(roles, Mapping) else {}


def _oidc_user() -> dict[str, Any] | None:
    try:
        if not st.user.is_logged_in:
            return None
        return dict(st.user.to_dict())
    except Exception:  # st.user unavailable (no [auth] configured)  # noqa: BLE001
        return None


def oidc_sign_in() -> dict | None:
    """If the browser is signed in with the OpenID Connect provider, sign in to riskmap."""
    info = _oidc_user()
    if info is None:
        return None
    email = _norm(info.get("email"))
    svc = state.service()
    users = list_users(svc, OIDC_SIGN_IN).to_dict("records")
    role = role_for_email(email, role_mapping(), users)
    if role is None:
        st.session_state["oidc_refused"] = email or "(no e-mail address)"
        return None
    user = user_for_email(email, users)
    if user is None:
        username = username_for_email(email, [u["username"] for u in users])
        try:
            user = provision_oidc_user(
                svc,
                OIDC_SIGN_IN,
                username,
                role,
                email=email,
                display_name=str(info.get("name") or username),
            )
        except DomainError as exc:
            st.session_state["oidc_refused"] = f"{email} ({exc})"
            return None
        state.after_write()
    signed = state.sign_in_as(user)
    st.session_state["oidc"] = True
    return signed


# -- the sign-in page ------------------------------------------------------------------


def _local_sign_in() -> None:
    with st.form("sign-in", border=True):
        username = st.text_input("User name", key="signin-username", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="signin-password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if submitted:
        # The client's address lets the service hold back guessing from one place too.
        address = getattr(st.context, "ip_address", None)
        client = address if isinstance(address, str) else ""
        user = authenticate(state.service(), username or "", password or "", client=client)
        if user is None:
            held = sign_in_hold(state.service(), username or "", client=client)
            st.error(
                held
                or "Wrong user name or password, or the account is disabled. "
                "Ask an administrator if you cannot sign in."
            )
            return
        state.sign_in_as(user)
        session_cookie.remember(user.username)
        st.rerun()


def render() -> None:
    info = state.organisation_info()
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("riskmap")
        st.caption(
            "Corruption risks that enable trafficking in persons, unit by unit, "
            "against the OECD Guiding Principles."
        )
        if info["name"]:
            st.subheader(info["name"])
        else:
            st.warning(
                "No organisation is set up in this database yet. Load the demo with "
                "`riskmap demo`, or set one up with the command line."
            )
        refused = st.session_state.pop("oidc_refused", None)
        if refused:
            st.error(
                f"{escape_md(refused)} has no riskmap role. Ask an administrator to add "
                "your address to a user or to the role mapping."
            )
        providers = oidc_providers()
        if providers is not None:
            for provider in providers or [None]:
                label = f"Sign in with {provider}" if provider else "Sign in with your organisation"
                if st.button(label, key=f"oidc-{provider}", width="stretch", type="primary"):
                    st.login(provider) if provider else st.login()
            st.caption("Or with a local riskmap account:")
        _local_sign_in()
        if info["is_demo"]:
            st.info(
                "**This is the demo ministry**: fictional units, cycles and incidents to "
                "explore riskmap. Sign in with one of the demo accounts below. Their "
                "passwords were printed by `riskmap demo` (or `make run`) when the demo was "
                "loaded; riskmap keeps only password hashes, so it cannot show them here.",
                icon=":material/science:",
            )
            if info["demo_users"]:
                st.table(
                    {
                        "user name": [u["username"] for u in info["demo_users"]],
                        "role": [state.role_label(u["role"]) for u in info["demo_users"]],
                    }
                )
