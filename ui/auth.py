"""Operator sign-in and roles: every page but the sign-in page needs a signed-in operator.

Operators, their PBKDF2 password hashes and their roles live in
``<data_dir>/operators.json`` (see ui.operators, ui.roles and docs/ui.md). Only the
signed-in name is kept in the browser session's ``st.session_state``; the role is read
from the file on every script run and again by every action (``authorize``), so an
operator removed from the file is signed out, and one whose role was lowered is refused,
the next time a page or an action runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from chargestream.domain.settings import Settings
from chargestream.ui.data import settings
from chargestream.ui.operators import (
    OperatorFileError,
    authenticate,
    load_operators,
    operators_path,
)
from chargestream.ui.roles import Permission, Role
from chargestream.ui.text import plain

OPERATOR_KEY = "operator"


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
    """The operator signed in to this browser session, if still configured."""
    name = st.session_state.get(OPERATOR_KEY)
    if not isinstance(name, str):
        return None
    try:
        operator = load_operators(config.data_dir).get(name)
    except OperatorFileError:
        operator = None
    if operator is None:
        del st.session_state[OPERATOR_KEY]
        return None
    return SignedIn(name, operator.role)


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
            st.session_state[OPERATOR_KEY] = name.strip()
            st.rerun()
        st.error("Wrong operator name or password.", icon=":material/lock:")
