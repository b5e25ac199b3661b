"""chargestream: an OCPP 1.6-J charging station management system on an event log."""

__version__ = "0.1.0"
