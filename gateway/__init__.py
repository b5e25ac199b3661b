"""The OCPP-J gateway (1.6 and 2.0.1): the only stateful edge of chargestream.

It holds the charge points' WebSockets, validates and answers OCPP, appends
every frame to the event log before answering, and delivers operator
commands to the charge points it holds.
"""
