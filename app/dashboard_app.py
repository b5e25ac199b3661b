"""The dashboard process's entry script (``streamlit run``, see ``chargestream.app.dashboard``).

Streamlit executes this file on every interaction: it hands the store back end this
deployment's settings choose to the UI's shell, which renders the page.
"""

from chargestream.app.backends import create_store
from chargestream.ui import shell

shell.main(open_store=create_store)
