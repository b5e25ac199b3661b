"""Dashboard pages: scripts st.navigation runs (see ui/app.py), one ``render()`` each.

Not named pages/: Streamlit would run a pages/ directory next to the entry point
the legacy way, without ui/app.py and its sign-in check.
"""
