"""Stream processing: derive registry, timeline, session, meter and alert records from frame events.

``chargestream.streams.derive`` is pure (no I/O, no clock reads) so the embedded mode,
the Faust agents and replays all produce the same records from the same log.
"""
