"""Operator sign-in: every page but the sign-in page needs a signed-in operator.

Operators and their PBKDF2 password hashes live in ``<data_dir>/operators.json``
(see ui.operators and docs/ui.md). The signed-in name is kept in the browser
session's ``st.session_state``; an operator removed from the file is signed
out the next time a page runs.
"""

from __future__ import annotations

import streamlit as st

from chargestream.domain.settings import Settings
from chargestream.ui.data import settings
from chargestream.ui.operators import (
    OperatorFileError,
    authenticate,
    load_operators,
    operators_path,
)

OPERATOR_KEY = "operator"


def signed_in_operator(config: Settings) -> str | None:
    """The operator signed in to this browser session, if still configured."""
    name = st.session_state.get(OPERATOR_KEY)
    if not isinstance(name, str):
        return None
    try:
        known = name in load_operators(config.data_dir)
    except OperatorFileError:
        known = False
    if not known:
        del st.session_state[OPERATOR_KEY]
        return None
    return name


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
        st.error(f"The operator file cannot be read: {error}")
        return
    if not operators:
        st.warning(
            "No operator can sign in yet: there is no operator in "
            f"`{operators_path(config.data_dir)}`.",
            icon=":material/person_off:",
        )
        st.markdown(
            "Create one on the CSMS host, then reload this page:\n\n"
            "```sh\n"
            f"chargestream operators add NAME --data-dir {config.data_dir}\n"
            "```\n\n"
            "`make run` creates an operator `admin` on first start and prints its password "
            "once. See docs/ui.md."
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
