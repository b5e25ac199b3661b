"""The dashboard's web server: Streamlit's ASGI app with security headers on every answer.

``chargestream.app.dashboard.ui_command`` runs ``streamlit run <this file> [flags] --
<entry script>``: Streamlit finds the ``app`` below, serves it with its own server (the
flags apply as usual) and runs the entry script (app/dashboard_app.py, which Streamlit
finds in ``sys.argv[1]``) for every browser session, exactly as ``streamlit run <entry
script>`` would; ``SecurityHeaders`` (ui/headers.py) adds the headers on the way out, and
the routes of ui/session_routes.py set and clear the sign-in cookie.
Only Streamlit imports this file, as the top-level module ``server``.
"""

import sys

from starlette.middleware import Middleware
from streamlit.starlette import App

from chargestream.domain.settings import Settings
from chargestream.ui.headers import SecurityHeaders
from chargestream.ui.session_routes import session_routes

if len(sys.argv) < 2:
    raise SystemExit("usage: streamlit run ui/server.py [flags] -- ENTRY_SCRIPT")

app = App(
    sys.argv[1],
    routes=session_routes(Settings.from_env),
    middleware=[Middleware(SecurityHeaders)],
)
