"""The Streamlit operations dashboard (see docs/ui.md); ``shell.main`` renders it.

Only ``chargestream.ui.operators`` is imported by the CLI and the composition root
without Streamlit installed.
"""
