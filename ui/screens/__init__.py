"""Dashboard pages: scripts st.navigation runs (see ui/shell.py), one ``render()`` each.

Not named pages/: Streamlit would run a pages/ directory next to an entry script
the legacy way, without the shell and its sign-in check.
"""
