"""Cassandra keeps registrations as JSON documents: a field added later needs no migration."""

from __future__ import annotations

from chargestream.domain.records import Registration
from chargestream.storage.cassandra_schema import REGISTRATIONS


def test_a_registration_written_before_security_profile_reads_as_the_default() -> None:
    old = '{"charge_point_id":"CP-1","display_name":null,"location":null,'
    old += '"password_hash":null,"lenient":false,"created_at":null}'
    assert REGISTRATIONS.from_doc(old) == Registration("CP-1", security_profile=None)


def test_the_security_profile_round_trips_through_the_document() -> None:
    pinned = Registration("CP-1", security_profile=3)
    assert REGISTRATIONS.from_doc(REGISTRATIONS.to_doc(pinned)) == pinned
