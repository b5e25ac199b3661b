"""chargestream bootstrap: topic, keyspace and charge point passwords, idempotently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from chargestream.domain.passwords import verify_password
from chargestream.storage.cassandra import CassandraStore


async def test_bootstrap_creates_topic_keyspace_and_passwords(
    kafka_bootstrap: str, cassandra_contact: tuple[str, int], tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:10]
    host, port = cassandra_contact
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"CP-BOOT-1": "first-password-1"}))
    env = {
        **os.environ,
        "CHARGESTREAM_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CHARGESTREAM_FRAMES_TOPIC": f"boot-{suffix}.frames",
        "CHARGESTREAM_FRAMES_PARTITIONS": "3",
        "CHARGESTREAM_CASSANDRA_HOSTS": host,
        "CHARGESTREAM_CASSANDRA_PORT": str(port),
        "CHARGESTREAM_CASSANDRA_KEYSPACE": f"boot_{suffix}",
    }
    command = [sys.executable, "-m", "chargestream.app.cli", "bootstrap"]
    for _ in range(2):  # the second run finds everything in place
        result = subprocess.run(
            [*command, "--charge-point-passwords", str(passwords)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr
        assert "first-password-1" not in result.stdout + result.stderr

    topics = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=30).topics
    assert len(topics[f"boot-{suffix}.frames"].partitions) == 3
    store = CassandraStore([host], port, f"boot_{suffix}")
    await store.open()
    try:
        registration = await store.get_registration("CP-BOOT-1")
        assert registration is not None and registration.password_hash is not None
        assert verify_password("first-password-1", registration.password_hash)
    finally:
        await store.close()

    passwords.write_text("[1, 2]")
    bad = subprocess.run(
        [*command, "--charge-point-passwords", str(passwords)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "expected {charge point id" in bad.stderr
