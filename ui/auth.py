"""Operator sign-in and roles: every page but the sign-in page needs a signed-in operator.

Operators, their PBKDF2 password hashes and their roles live in
``<data_dir>/operators.json`` (see ui.operators, ui.roles and docs/ui.md). Only the
signed-in name is kept in the browser session's ``st.session_state``; the role is read
from the file on every script run and again by every action (``authorize``), so an
operator removed from the file is signed out, and one whose role was lowered is refused,
the next time a page or an action runs. A reload starts a new browser session: the
signed session cookie (ui.session_tokens, set and cleared by ui.session_routes) signs the
operator in again until it expires, the operator signs out, or their password or role
changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import streamlit as st

from chargestream.domain.settings import Settings
from chargestream.ui.data import settings
from chargestream.ui.operators import (
    Operator,
    OperatorFileError,
    authenticate,
    load_operators,
    operators_path,
)
from chargestream.ui.roles import Permission, Role
from chargestream.ui.session_routes import FORGET, REMEMBER
from chargestream.ui.session_tokens import (
    COOKIE,
    GRANT,
    GRANT_TTL,
    SESSION,
    SessionKeyError,
    issue,
    session_key,
    verify,
)
from chargestream.ui.text import plain

OPERATOR_KEY = "operator"
GRANT_KEY = "session_grant"  # a grant the page exchanges for the cookie, shown once
SIGNED_OUT_KEY = "signed_out"  # this browser session signed out: its cookie no longer counts
_CLEAR_COOKIE = "clear cookie"  # SIGNED_OUT_KEY until the page has cleared the cookie


@dataclass(frozen=True)
class SignedIn:
    """The operator of this browser session and their role, as operators.json says now."""

    name: str
    role: Role

    def may(self, permission: Permission) -> bool:
        return self.role.allows(permission.role)


class Refused(Exception):
    """The signed-in operator's role does not allow the action; the message says why."""


def signed_in(config: Settings) -> SignedIn | None:
    """The operator signed in to this browser session (or by its cookie), if still configured."""
    try:
        operators = load_operators(config.data_dir)
    except OperatorFileError:
        operators = {}
    name = st.session_state.get(OPERATOR_KEY)
    if not isinstance(name, str):
        name = _from_cookie(config, operators)
        if name is None:
            return None
        st.session_state[OPERATOR_KEY] = name
    operator = operators.get(name)
    if operator is None:
        del st.session_state[OPERATOR_KEY]
        return None
    return SignedIn(name, operator.role)


def _from_cookie(config: Settings, operators: dict[str, Operator]) -> str | None:
    """The operator the session cookie names, if it is valid (and not signed out here)."""
    token = st.context.cookies.get(COOKIE)
    if not isinstance(token, str) or not token or st.session_state.get(SIGNED_OUT_KEY):
        return None
    try:
        key = session_key(config.data_dir)
    except (OSError, SessionKeyError):
        return None
    claims = verify(key, token, SESSION, operators, time.time())
    return claims.operator if claims else None


def cookie_requests() -> None:
    """Once after signing in or out: the invisible image that sets or clears the cookie."""
    grant = st.session_state.pop(GRANT_KEY, None)
    if isinstance(grant, str):  # in the sidebar: the page's own content stays image-free
        st.sidebar.html(f'<img src="{REMEMBER}?grant={quote(grant)}" alt="" width="0" height="0">')
    elif st.session_state.get(SIGNED_OUT_KEY) == _CLEAR_COOKIE:
        st.session_state[SIGNED_OUT_KEY] = True
        st.html(f'<img src="{FORGET}" alt="" width="0" height="0">')


def authorize(permission: Permission) -> str:
    """The signed-in operator's name if their role allows ``permission``; else ``Refused``.

    Every action calls this when it runs (a widget callback or the code after a button),
    whatever the page showed: a control hidden or disabled in the browser can still be
    triggered by a crafted widget event, and the role may have changed since.
    """
    operator = signed_in(settings())
    if operator is None or not operator.may(permission):
        raise Refused(permission.refusal(operator.role if operator else None))
    return operator.name


def control(operator: SignedIn | None, permission: Permission) -> dict[str, Any]:
    """Keyword arguments for a widget that takes ``permission``: disabled, with the reason."""
    if operator is not None and operator.may(permission):
        return {"disabled": False}
    return {"disabled": True, "help": permission.refusal(operator.role if operator else None)}


def explain(operator: SignedIn | None, permission: Permission) -> None:
    """A note under controls the operator's role may not use (nothing if it may)."""
    if operator is None or not operator.may(permission):
        st.caption(f":material/lock: {permission.refusal(operator.role if operator else None)}")


def sign_out() -> None:
    st.session_state.pop(OPERATOR_KEY, None)
    st.session_state[SIGNED_OUT_KEY] = _CLEAR_COOKIE  # the sign-in page clears it


def remember(config: Settings, name: str, operator: Operator) -> None:
    """Sign ``name`` in to this browser session and have the next page set its cookie."""
    st.session_state[OPERATOR_KEY] = name
    st.session_state.pop(SIGNED_OUT_KEY, None)
    try:
        key = session_key(config.data_dir)
    except (OSError, SessionKeyError):
        return  # signed in until the next reload
    expires = int(time.time()) + GRANT_TTL
    st.session_state[GRANT_KEY] = issue(key, name, operator, GRANT, expires)


def login_page() -> None:
    """The sign-in form, or how to create the first operator."""
    config = settings()
    st.title("chargestream")
    st.caption("Charging station management · operations dashboard")
    try:
        operators = load_operators(config.data_dir)
    except OperatorFileError as error:
        st.error(f"The operator file cannot be read: {plain(error)}")
        return
    if not operators:
        st.warning(
            "No operator can sign in yet: there is no operator in "
            f"{plain(operators_path(config.data_dir))}.",
            icon=":material/person_off:",
        )
        st.markdown(
            "Create one on the CSMS host, then reload this page:\n\n"
            "```sh\n"
            f"chargestream operators add NAME --role admin --data-dir {config.data_dir}\n"
            "```\n\n"
            "`make run` creates an operator `admin` (role admin) on first start and prints "
            "its password once. See docs/ui.md."
        )
        return
    with st.form("sign_in", width=420):
        st.subheader("Sign in")
        name = st.text_input("Operator", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if submitted:
        if authenticate(operators, name.strip(), password):
            remember(config, name.strip(), operators[name.strip()])
            st.rerun()
        st.error("Wrong operator name or password.", icon=":material/lock:")
