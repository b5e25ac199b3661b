"""The HTTP API under schemathesis: requests generated from the running CSMS's /openapi.json.

A real ``chargestream run`` (benchmarks.fuzz.CsmsProcess) with a registered charge point
that is connected and answers commands, an id tag and a protected charge point. Every
operation gets ``CHARGESTREAM_FUZZ_API_EXAMPLES`` generated requests (default 10;
``make fuzz`` runs 300), valid and invalid, with the bearer token; each must be answered
without a server error, with a status code, content type, headers and body the schema
declares, and the CSMS must log no error while answering it. Then the same without a
token: every /api/v1 operation must refuse.

Hypothesis runs derandomized (the same requests every time) unless
``CHARGESTREAM_FUZZ_SEED`` is set, and keeps no example database.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import HypothesisDeprecationWarning, Unsatisfiable
from schemathesis import Case, GenerationMode, checks
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation

from benchmarks.fuzz import PASSWORD, PROTECTED, CsmsProcess, log_problems
from tests.conftest import eventually
from tests.ocpp_client import charge_point

Operation = APIOperation[Any, Any, Any, Any]
ApiCase = Case[Any]
EXAMPLES = int(os.environ.get("CHARGESTREAM_FUZZ_API_EXAMPLES", "10"))
RANDOM = "CHARGESTREAM_FUZZ_SEED" in os.environ
CONNECTED = "API-CP-1"

# The bearer token is set on every case here (the test below sends none), which makes the
# requests schemathesis meant as missing-auth negative ones valid; whether valid data is
# accepted and invalid data refused depends on the data in the store and on pydantic's
# coercions (a number is a valid datetime), not on the schema: the checks left are no 5xx,
# and responses (status code, content type, headers, body) as the schema says.
EXCLUDED = [
    checks.ignored_auth,
    checks.negative_data_rejection,
    checks.positive_data_acceptance,
]

REFUSED = frozenset({400, 401, 405, 415, 422})

HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)


class ConnectedChargePoint:
    """tests/ocpp_client.py's charge point on its own thread and loop, answering commands."""

    def __init__(self, url: str, charge_point_id: str) -> None:
        self.url = url
        self.charge_point_id = charge_point_id
        self.loop = asyncio.new_event_loop()
        self.stopped = asyncio.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.main(),))

    async def main(self) -> None:
        async with charge_point(self.url, self.charge_point_id):
            await self.stopped.wait()

    def __enter__(self) -> ConnectedChargePoint:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.stopped.set)
        self.thread.join(30)
        self.loop.close()


async def _prepare(csms: CsmsProcess) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url, headers=csms.headers) as api:
        for path, body in (
            (f"/api/v1/charge-points/{CONNECTED}", {"display_name": "fuzz"}),
            (f"/api/v1/charge-points/{PROTECTED}", {"password": PASSWORD}),
            ("/api/v1/id-tags/FUZZTAG", {"status": "Accepted"}),
        ):
            response = await api.put(path, json=body)
            assert response.status_code == 200, response.text


async def _connected(csms: CsmsProcess) -> bool:
    async with httpx.AsyncClient(base_url=csms.api_url, headers=csms.headers) as api:
        response = await api.get(f"/api/v1/charge-points/{CONNECTED}")
        return '"connected":true' in response.text.replace(" ", "")


@pytest.fixture(scope="module")
def api_csms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsmsProcess]:
    csms = CsmsProcess(Path(tmp_path_factory.mktemp("api-fuzz")))
    asyncio.run(csms.start())
    try:
        asyncio.run(_prepare(csms))
        with ConnectedChargePoint(csms.ocpp_url, CONNECTED):
            asyncio.run(eventually(lambda: _connected(csms), timeout=30))
            yield csms
    finally:
        code = asyncio.run(csms.stop())
        problems = log_problems(csms.new_log_lines(), Counter())
    assert code == 0, f"the CSMS exited with {code}"
    assert not problems, "\n".join(map(str, problems))


@pytest.fixture(scope="module")
def operations(api_csms: CsmsProcess) -> list[Operation]:
    """Every operation the running CSMS's /openapi.json declares."""
    api_schema = schemathesis.openapi.from_url(f"{api_csms.api_url}/openapi.json")
    found = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result
        found.append(result.ok())
    assert len(found) >= 10, [operation.label for operation in found]
    return found


def fuzz(operations: list[Operation], check: Callable[[ApiCase], None]) -> None:
    """Run ``check`` on generated valid and invalid requests of every operation.

    (schemathesis.pytest's lazy fixture loader does not run on pytest 9, so the operations
    are walked here; every failure is collected, with the operation, before failing.)
    """
    failures: list[str] = []
    for operation in operations:
        for mode in GenerationMode:
            started = time.monotonic()

            @HYPOTHESIS
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: ApiCase) -> None:
                check(case)

            try:
                with warnings.catch_warnings():
                    # schemathesis's negative strategies draw from the random module
                    warnings.filterwarnings(
                        "ignore", "Do not use the `random` module", HypothesisDeprecationWarning
                    )
                    run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                pass
            except (Exception, BaseExceptionGroup) as failure:  # FailureGroup is the latter
                failures.append(f"{operation.label} ({mode.value}): {_explain(failure)}")
            print(f"{operation.label} ({mode.value}): {time.monotonic() - started:.1f} s")
    assert not failures, "\n\n".join(failures)


def _explain(failure: BaseException) -> str:
    """The failure with its sub-exceptions and notes (the request that reproduces it)."""
    parts = [str(failure), *getattr(failure, "__notes__", ())]
    for sub in getattr(failure, "exceptions", ()):
        parts.append("  - " + _explain(sub).replace("\n", "\n    "))
    return "\n".join(parts)


def test_api_answers_generated_requests_as_its_schema_says(
    api_csms: CsmsProcess, operations: list[Operation]
) -> None:
    def check(case: ApiCase) -> None:
        case.headers.update(api_csms.headers)
        response = case.call(timeout=60)
        case.validate_response(response, excluded_checks=EXCLUDED)
        problems = log_problems(api_csms.new_log_lines(), Counter())
        assert not problems, "\n".join(map(str, problems))

    fuzz(operations, check)


def test_api_refuses_generated_requests_without_the_token(
    api_csms: CsmsProcess, operations: list[Operation]
) -> None:
    def check(case: ApiCase) -> None:
        case.headers.pop("Authorization", None)
        response = case.call(timeout=60)
        what = (case.method, case.formatted_path, response.status_code, response.text[:300])
        assert response.status_code < 500, what
        if case.path.startswith("/api/v1"):
            # refused, whatever the request; a body FastAPI cannot read or validate is refused
            # (400, 422) before the token is checked, never served nor looked up (404, 409)
            assert response.status_code in REFUSED, what

    fuzz(operations, check)
