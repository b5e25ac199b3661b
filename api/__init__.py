"""The HTTP API (``/api/v1``) for integrators, the dashboard and ops."""

from chargestream.api.app import create_api

__all__ = ["create_api"]
