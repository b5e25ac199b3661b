"""The Streamlit operations dashboard: ``streamlit run ui/app.py`` (see docs/ui.md).

Only ``ui.operators`` and ``ui.launch`` are imported by the CLI and the
composition root; they do not need Streamlit installed.
"""
