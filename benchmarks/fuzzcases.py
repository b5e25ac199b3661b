"""Fuzz cases for the OCPP-J gateway, and what each one must get back.

Pure: no sockets, no clock. ``FrameFuzzer`` turns a seeded ``random.Random`` into frames
(valid CALLs of every charge-point action built from the official OCPP 1.6 JSON schemas of
the ``ocpp`` package, mutated CALLs, broken JSON, binary and oversized frames, answers to
unknown ids) and ``HandshakeFuzzer`` into opening handshakes (odd paths and ids, wrong
subprotocols, bad Basic auth, garbage HTTP). Case ``i`` of a stream depends only on the seed
and ``i``, so a failing case is replayed from the seed.

The oracle (``classify``) reads the frame text with its own strict JSON parser and the
``jsonschema`` library, never with the gateway's code, and says how many answers the
gateway owes (a CALL: exactly one; a CALLRESULT or CALLERROR: none), with which message id
and whether it must be a CALLRESULT (a valid CALL of a charge-point action) or a CALLERROR
(a schema violation from a strict charge point, an unknown action, a broken frame). Where
RFC 8259 or OCPP-J leave the behaviour to the implementation (numbers beyond a double,
lone surrogates, nesting beyond the parser's depth, a message type of 2.0), the oracle
accepts either behaviour and the driver sends such a frame alone, so the answer count stays
exact for every other frame.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Literal

import jsonschema  # type: ignore[import-untyped]

CHARGE_POINT_ACTIONS = (
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
)
# Sent only by a CSMS: a charge point sending one gets NotSupported.
CENTRAL_SYSTEM_ONLY = (
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "InstallCertificate",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SignedUpdateFirmware",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
)
# OCPP-J 1.6, section 4.2.3: the only error codes a CALLERROR may carry.
ERROR_CODES = frozenset(
    {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    }
)
MAX_ID_CHARS = 36  # OCPP-J: a message id is a string of at most 36 characters
HEAD = 160  # an answer to a frame that cannot be read may carry an id found in its head

Outcome = Literal["result", "error", "any"]


# ------------------------------------------------------------------------------ schemas


@cache
def schema(name: str) -> dict[str, Any]:
    """The official OCPP 1.6 JSON schema ``name`` (e.g. "MeterValues", "HeartbeatResponse")."""
    text = resources.files("ocpp.v16").joinpath("schemas", f"{name}.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


_CANONICAL_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d{1,9})?(?:[Zz]|([+-])(\d\d):(\d\d))"
)
_URI = re.compile(r"[a-z][a-z0-9+.-]*://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+")


class _Verdict:
    """Set by the format checkers while one payload is validated."""

    uncertain = False


def _date_time(value: object) -> bool:
    """RFC 3339 date-time: certain only for the forms both validators agree on."""
    if not isinstance(value, str):
        return True
    match = _CANONICAL_TIME.fullmatch(value)
    if match is None:
        _Verdict.uncertain = True
        return True
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    try:
        datetime(year, month, day)
    except ValueError:
        _Verdict.uncertain = True
        return True
    offset_ok = match.group(7) is None or (int(match.group(8)) <= 23 and int(match.group(9)) <= 59)
    if hour > 23 or minute > 59 or second > 60 or not offset_ok:
        _Verdict.uncertain = True
    return True


def _uri(value: object) -> bool:
    if isinstance(value, str) and _URI.fullmatch(value) is None:
        _Verdict.uncertain = True
    return True


_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(_date_time)
_FORMATS.checks("uri")(_uri)


@cache
def validator(name: str) -> Any:
    """An independent (``jsonschema``) validator for schema ``name``."""
    document = schema(name)
    cls = jsonschema.validators.validator_for(document)
    return cls(document, format_checker=_FORMATS)


def payload_valid(name: str, payload: Any) -> bool | None:
    """True if ``payload`` matches schema ``name``, False if not, None if only a format
    (date-time, uri) decides and the validators may disagree on it."""
    _Verdict.uncertain = False
    try:
        errors = next(validator(name).iter_errors(payload), None)
    except RecursionError:
        return None
    if errors is not None:
        return False
    return None if _Verdict.uncertain else True


# ----------------------------------------------------------------------------- the oracle


@dataclass(frozen=True, slots=True)
class Expect:
    """What the gateway owes for one frame.

    ``answers``: 1 or 0, or None when either is right (such a frame is sent alone).
    ``ids``: the answer's message id must be one of these; None: "-1" or any text found
    in the frame's first ``HEAD`` characters (the gateway may guess it from a broken frame).
    ``action``: a CALLRESULT's payload must match this action's response schema.
    ``close``: instead of answering, the gateway closes the connection with this code.
    """

    answers: int | None
    ids: frozenset[str] | None
    outcome: Outcome
    action: str | None = None
    close: int | None = None


class _Unparseable(ValueError):
    """Not JSON by RFC 8259."""


class _Limit(ValueError):
    """JSON, but beyond what a parser must accept (RFC 8259 section 9)."""


def _no_constants(name: str) -> Any:
    raise _Unparseable(name)


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Limit(text)
    return value


def _bounded_int(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**64:  # beyond int64/uint64 a parser may round or refuse
        raise _Limit(text)
    return value


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    return False


def strict_loads(text: str) -> Any:
    """RFC 8259 JSON; raises _Unparseable or _Limit."""
    try:
        value = json.loads(
            text, parse_constant=_no_constants, parse_float=_finite, parse_int=_bounded_int
        )
    except RecursionError:
        raise _Limit("nesting") from None
    except json.JSONDecodeError as error:
        raise _Unparseable(str(error)) from None
    if ("\\u" in text or "\\U" in text) and _has_lone_surrogate(value):
        raise _Limit("lone surrogate")
    return value


_CALL_PREFIX = re.compile(r"[ \t\r\n]*\[[ \t\r\n]*2[ \t\r\n]*,")
_ANY_ONE = Expect(1, None, "any")


def _is_int(value: Any, *numbers: int) -> bool:
    return type(value) is int and value in numbers


def _numeric_equal(value: Any, *numbers: int) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value in numbers


def classify(text: str, *, lenient: bool = False) -> Expect:
    """What the gateway owes for the text frame ``text`` from a (strict or lenient) cp."""
    try:
        frame = strict_loads(text)
    except _Unparseable:
        return Expect(1, None, "error")
    except _Limit:
        # a CALL gets one answer whether the parser reads it or not
        return _ANY_ONE if _CALL_PREFIX.match(text) else Expect(None, None, "any")
    if not isinstance(frame, list) or len(frame) < 3:
        if isinstance(frame, list) and frame and _numeric_equal(frame[0], 3, 4):
            return Expect(None, None, "any")  # a broken answer: answering it is optional
        return Expect(1, frozenset({"-1"}), "error")
    kind, message_id = frame[0], frame[1]
    id_ok = isinstance(message_id, str) and 0 < len(message_id) <= MAX_ID_CHARS
    own = frozenset({message_id, "-1"}) if isinstance(message_id, str) else frozenset({"-1"})
    if _numeric_equal(kind, 3, 4):
        if _is_int(kind, 3, 4) and id_ok:
            return Expect(0, None, "any")
        return Expect(None, None, "any")
    if not _numeric_equal(kind, 2):
        return Expect(1, own, "error")  # unknown message type
    if not _is_int(kind, 2):
        return Expect(1, own, "any")  # 2.0: a CALL or an unknown type, answered either way
    if not id_ok:
        return Expect(1, own, "error")
    ids = frozenset({message_id})
    if len(frame) != 4 or not isinstance(frame[2], str):
        return Expect(1, ids, "error")
    action, payload = frame[2], frame[3]
    if action not in CHARGE_POINT_ACTIONS or not isinstance(payload, dict):
        return Expect(1, ids, "error")
    verdict = payload_valid(action, payload)
    if verdict is True:
        return Expect(1, ids, "result", action)
    if verdict is False and not lenient:
        return Expect(1, ids, "error", action)
    return Expect(1, ids, "any", action)


@dataclass(frozen=True, slots=True)
class Answer:
    """A frame the gateway sent, read strictly."""

    message_type: int
    message_id: str
    payload: Any = None
    error_code: str | None = None


def read_answer(text: str) -> Answer:
    """A CALLRESULT or CALLERROR as OCPP-J 1.6 defines it; raises ValueError otherwise."""
    try:
        frame = strict_loads(text)
    except (_Unparseable, _Limit) as error:
        raise ValueError(f"the gateway sent a frame that is not strict JSON: {error}") from None
    if not isinstance(frame, list) or len(frame) < 3 or not isinstance(frame[1], str):
        raise ValueError("the gateway sent a frame that is not an OCPP-J message")
    if _is_int(frame[0], 3) and len(frame) == 3 and isinstance(frame[2], dict):
        return Answer(3, frame[1], frame[2])
    if (
        _is_int(frame[0], 4)
        and len(frame) == 5
        and frame[2] in ERROR_CODES
        and isinstance(frame[3], str)
        and isinstance(frame[4], dict)
    ):
        return Answer(4, frame[1], frame[4], frame[2])
    raise ValueError("the gateway sent a malformed CALLRESULT/CALLERROR")


def check_answer(expect: Expect, answer: Answer, frame: str | bytes) -> str | None:
    """Why ``answer`` is wrong for a frame with ``expect``; None if it is right."""
    if expect.ids is not None:
        if answer.message_id not in expect.ids:
            return f"answer id {answer.message_id!r}, expected one of {sorted(expect.ids)}"
    elif answer.message_id != "-1":
        head = frame[:HEAD]
        found = answer.message_id in head if isinstance(head, str) else False
        if isinstance(head, bytes):
            found = answer.message_id.encode("utf-8", "replace") in head
        if not found:
            return f"answer id {answer.message_id!r} is neither -1 nor in the frame"
    if expect.outcome == "result" and answer.message_type != 3:
        return f"expected a CALLRESULT, got CALLERROR {answer.error_code}"
    if expect.outcome == "error" and answer.message_type != 4:
        return "expected a CALLERROR, got a CALLRESULT"
    if answer.message_type != 3 or expect.action is None:
        return None
    if payload_valid(f"{expect.action}Response", answer.payload) is False:
        return f"CALLRESULT breaks {expect.action}Response: {answer.payload!r:.200}"
    return None


# ------------------------------------------------------------------------------- values

_NASTY = (
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\u0085",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "\U0010ffff",
    "é",
    "ß",
    "中",
    "🔌",
    "👩‍👩‍👧",
    "\\",
    '"',
    "'",
    "%",
    "%00",
    "%s%n",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "![x](http://127.0.0.1:1/x.png)",
    "'; DROP TABLE sessions; --",
    "../../etc/passwd",
    "\r\n",
    " ",
)
_INTS = (
    0,
    1,
    -1,
    2,
    2**31 - 1,
    2**31,
    -(2**31),
    2**32,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
    2**64 - 1,
)
_FLOATS = (0.0, -0.0, 0.1, -0.1, 1e-300, 5e-324, 1.7976931348623157e308, -1e308, 2.5e15)
_T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
_ALNUM = string.ascii_letters + string.digits


# Inputs behind known findings, which a bounded run can leave out until they are fixed
# (name -> what; each with a strict-xfail reproducer in tests/integration/fuzz/
# test_findings.py). None open: the last three (uint64, deep-nesting, far-dates) are fixed.
KNOWN_ISSUES: dict[str, str] = {}


class Values:
    """Random JSON values for one schema, typical or extreme."""

    def __init__(self, rng: random.Random, avoid: frozenset[str] = frozenset()) -> None:
        self.rng = rng
        self.avoid = avoid  # KNOWN_ISSUES whose values to leave out

    def text(self, max_length: int | None, extreme: bool) -> str:
        rng = self.rng
        limit = max_length if max_length is not None else (1000 if extreme else 40)
        if not extreme:
            return "".join(rng.choices(_ALNUM, k=rng.randint(1, min(limit, 20))))
        length = limit if rng.random() < 0.3 else rng.randint(0, limit)
        pieces: list[str] = []
        size = 0
        while size < length:
            if rng.random() < 0.5:
                piece = rng.choice(_NASTY)
            else:
                piece = "".join(rng.choices(_ALNUM, k=min(rng.randint(1, 64), length - size)))
            if size + len(piece) > length:
                piece = "a" * (length - size)
            pieces.append(piece)
            size += len(piece)
        return "".join(pieces)

    def integer(self, extreme: bool) -> int:
        if extreme:
            return self.rng.choice(_INTS)
        return self.rng.randint(0, 4) if self.rng.random() < 0.5 else self.rng.randint(0, 10**6)

    def number(self, multiple_of: float | None, extreme: bool) -> float | int:
        rng = self.rng
        if multiple_of is not None:  # OCPP uses 0.1: tenths
            return round(rng.randint(-10 if extreme else 0, 10**4) * multiple_of, 1)
        if extreme:
            return rng.choice((*_FLOATS, 2**53, -(2**31)))
        return round(rng.uniform(0, 1000), 3)

    def date_time(self, extreme: bool) -> str:
        rng = self.rng
        if extreme:
            return rng.choice(
                (
                    "0001-01-01T00:00:00Z",
                    "9999-12-31T23:59:59.999Z",
                    "2024-02-29T12:00:00+14:00",
                    "2026-06-30T23:59:60Z",
                    "2026-11-27t10:00:00z",
                    "1970-01-01T00:00:00.123456789Z",
                    "2026-11-27T10:00:00-23:59",
                    "2038-01-19T03:14:08.000Z",
                )
            )
        moment = _T0 + timedelta(seconds=rng.randint(-86400 * 30, 86400 * 30))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 999):03d}Z"

    def uri(self) -> str:
        return f"https://example.com/{self.text(20, extreme=False)}"

    def instance(
        self, node: dict[str, Any], root: dict[str, Any], extreme: bool, depth: int = 0
    ) -> Any:
        """A value valid against ``node`` (a part of schema ``root``)."""
        rng = self.rng
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        if "enum" in node:
            return rng.choice(node["enum"])
        kind = node.get("type")
        if kind == "object":
            properties: dict[str, Any] = node.get("properties", {})
            required = set(node.get("required", ()))
            chance = 0.9 if extreme else 0.5
            return {
                name: self.instance(sub, root, extreme, depth + 1)
                for name, sub in properties.items()
                if name in required or rng.random() < chance
            }
        if kind == "array":
            low = node.get("minItems", 0)
            count = low + rng.randint(0, 6 if extreme else 2)
            return [self.instance(node["items"], root, extreme, depth + 1) for _ in range(count)]
        if kind == "string":
            if node.get("format") == "date-time":
                return self.date_time(extreme and rng.random() < 0.5)
            if node.get("format") == "uri":
                return self.uri()
            return self.text(node.get("maxLength"), extreme and rng.random() < 0.6)
        if kind == "integer":
            return self.integer(extreme and rng.random() < 0.6)
        if kind == "number":
            return self.number(node.get("multipleOf"), extreme and rng.random() < 0.6)
        if kind == "boolean":
            return rng.random() < 0.5
        return None

    def any_json(self, depth: int = 0) -> Any:
        """Any JSON value, of any type."""
        rng = self.rng
        choice = rng.randrange(8 if depth < 3 else 6)
        if choice == 0:
            return None
        if choice == 1:
            return rng.random() < 0.5
        if choice == 2:
            return self.integer(extreme=True)
        if choice == 3:
            return self.number(None, extreme=True)
        if choice in (4, 5):
            return self.text(None if rng.random() < 0.2 else 30, extreme=True)
        if choice == 6:
            return [self.any_json(depth + 1) for _ in range(rng.randint(0, 3))]
        return {self.text(10, extreme=True): self.any_json(depth + 1) for _ in range(3)}


# ---------------------------------------------------------------------- frames


@dataclass(frozen=True, slots=True)
class FrameCase:
    """One frame to send (``data`` is str for a text frame, bytes for a binary or raw one)."""

    index: int
    kind: str
    data: str | bytes
    binary: bool
    expect: Expect

    def describe(self, limit: int = 300) -> str:
        shown = repr(self.data[:limit]) + ("…" if len(self.data) > limit else "")
        return f"#{self.index} {self.kind} ({len(self.data)} chars/bytes): {shown}"


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII characters as they are."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


Path_ = tuple[str | int, ...]


def _paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _get(value: Any, path: Path_) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(value: Any, path: Path_, new: Any) -> Any:
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


def _flip(value: Any, rng: random.Random) -> Any:
    """A value of another JSON type."""
    others: list[Callable[[], Any]] = [
        lambda: "1",
        lambda: 1,
        lambda: 1.5,
        lambda: True,
        lambda: None,
        lambda: [value],
        lambda: {"value": value},
        lambda: "",
    ]
    while True:
        candidate = rng.choice(others)()
        if type(candidate) is not type(value):
            return candidate


class FrameFuzzer:
    """Frames for one charge point connection; case ``i`` depends only on seed and ``i``."""

    def __init__(
        self,
        seed: int,
        stream: str,
        *,
        max_frame_bytes: int,
        hard_limit: int,
        lenient: bool,
        avoid: frozenset[str] = frozenset(),
    ) -> None:
        unknown = avoid - KNOWN_ISSUES.keys()
        if unknown:
            raise ValueError(f"no known issues {sorted(unknown)}: {sorted(KNOWN_ISSUES)}")
        self.avoid = avoid
        self.seed = seed
        self.stream = stream
        self.max_frame_bytes = max_frame_bytes
        self.hard_limit = hard_limit
        self.lenient = lenient
        self._kinds = [kind for kind, _ in self.WEIGHTS]
        self._weights = [weight for _, weight in self.WEIGHTS]

    WEIGHTS: tuple[tuple[str, float], ...] = (
        ("valid", 200),
        ("valid-extreme", 110),
        ("type-flip", 80),
        ("odd-value", 80),
        ("missing-field", 40),
        ("extra-field", 40),
        ("deep-nesting", 15),
        ("odd-action", 30),
        ("payload-not-object", 20),
        ("message-type", 40),
        ("frame-shape", 50),
        ("answer-unknown-id", 60),
        ("broken-json", 120),
        ("surrogate", 30),
        ("random-json", 30),
        ("binary", 30),
        ("size-limit", 4),
        ("huge", 0.5),
        ("invalid-utf8", 2),
    )

    def rng(self, index: int) -> random.Random:
        return random.Random(f"{self.seed}:{self.stream}:{index}")

    def message_id(self, index: int) -> str:
        return f"{self.stream}-{index}"[:MAX_ID_CHARS]

    def case(self, index: int) -> FrameCase:
        rng = self.rng(index)
        kind = rng.choices(self._kinds, self._weights)[0]
        data, binary, expect = getattr(self, "_" + kind.replace("-", "_"))(rng, index)
        if expect is None:
            assert isinstance(data, str)
            expect = classify(data, lenient=self.lenient)
        return FrameCase(index, kind, data, binary, expect)

    # -- building blocks

    def valid_call(
        self, rng: random.Random, index: int, extreme: bool = False
    ) -> tuple[str, str, dict[str, Any]]:
        action = rng.choice(CHARGE_POINT_ACTIONS)
        document = schema(action)
        payload = Values(rng, self.avoid).instance(document, document, extreme)
        return self.message_id(index), action, payload

    def _text(self, frame: Any) -> tuple[str, bool, None]:
        return dumps(frame), False, None

    # -- the kinds (each returns data, binary, expect or None to classify the text)

    def _valid(self, rng: random.Random, index: int) -> tuple[str, bool, Expect | None]:
        mid, action, payload = self.valid_call(rng, index)
        return (
            dumps([2, mid, action, payload]),
            False,
            Expect(1, frozenset({mid}), "result", action),
        )

    def _valid_extreme(self, rng: random.Random, index: int) -> tuple[str, bool, Expect | None]:
        mid, action, payload = self.valid_call(rng, index, extreme=True)
        text = dumps([2, mid, action, payload])
        size = len(text.encode())
        if size > self.hard_limit:
            return text, False, Expect(0, None, "any", close=1009)
        if size > self.max_frame_bytes:
            return text, False, Expect(1, frozenset({mid, "-1"}), "error")
        return text, False, Expect(1, frozenset({mid}), "result", action)

    def _type_flip(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        path = rng.choice(list(_paths(payload))[1:] or [()])
        payload = _set(payload, path, _flip(_get(payload, path), rng))
        return self._text([2, mid, action, payload])

    def _odd_value(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        values = Values(rng, self.avoid)
        leaves = [p for p in _paths(payload) if not isinstance(_get(payload, p), dict | list)]
        if not leaves:
            return self._text([2, mid, action, payload])
        path = rng.choice(leaves)
        old = _get(payload, path)
        if isinstance(old, bool):
            new: Any = rng.choice((0, 1, "true"))
        elif isinstance(old, int | float):
            new = rng.choice((*_INTS, *_FLOATS, -(2**63) - 1, 2**64, 10**30, 1e300, -5, 0.5, 1e-7))
        else:
            new = values.text(rng.choice((None, 20, 500, 20000)), extreme=True)
        return self._text([2, mid, action, _set(payload, path, new)])

    def _missing_field(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        holders = [p for p in _paths(payload) if isinstance(_get(payload, p), dict)]
        holder = _get(payload, rng.choice(holders))
        if holder:
            del holder[rng.choice(sorted(holder))]
        return self._text([2, mid, action, payload])

    def _extra_field(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        holders = [p for p in _paths(payload) if isinstance(_get(payload, p), dict)]
        holder = _get(payload, rng.choice(holders))
        name = rng.choice(("extra", "__proto__", "constructor", "", "connectorId ", "\x00"))
        holder[name] = Values(rng, self.avoid).any_json()
        return self._text([2, mid, action, payload])

    def _deep_nesting(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        depth = rng.choice((64, 200, 256, 300, 512, 1024, 1025, 5000, 100_000))
        opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
        nested = opener * depth + "1" + closer * depth
        body = dumps(payload)
        if rng.random() < 0.5 and len(body) > 2:  # nested inside the payload, else as it
            body = body[:-1] + ("," if body != "{}" else "") + '"nested":' + nested + "}"
        else:
            body = nested
        return f'[2,"{mid}","{action}",{body}]', False, None

    def _odd_action(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid = self.message_id(index)
        action = rng.choice(
            (
                rng.choice(CENTRAL_SYSTEM_ONLY),
                "",
                "heartbeat",
                "Heartbeat ",
                "BootNotificationResponse",
                "__init__",
                "handle",
                "../Heartbeat",
                "X" * 10_000,
                "Heart\x00beat",
                "🔌",
                1,
                None,
                ["Heartbeat"],
                {"action": "Heartbeat"},
            )
        )
        return self._text([2, mid, action, {}])

    def _payload_not_object(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        odd = rng.choice((None, [], [payload], "{}", 0, True, list(payload.items())))
        return self._text([2, mid, action, odd])

    def _message_type(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        kind: Any = rng.choice((0, 1, 5, 6, -1, 2**70, 2.0, 3.0, "2", "CALL", None, True, [2], {}))
        return self._text([kind, mid, action, payload])

    def _frame_shape(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        odd_id = rng.choice(("", "x" * 37, "é" * 36, "🔌" * 37, 7, None, ["a"], {"id": mid}))
        frame = rng.choice(
            (
                [2, mid, action],
                [2, mid, action, payload, "extra"],
                [2, mid],
                [2],
                [],
                [2, odd_id, action, payload],
                [2, mid, payload, action],
                {"0": 2, "1": mid, "2": action, "3": payload},
                [[2, mid, action, payload]],
                [2, mid, action, payload, payload, payload],
            )
        )
        return self._text(frame)

    def _answer_unknown_id(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid = rng.choice((self.message_id(index), "-1", "0", "unknown", "x" * 36))
        values = Values(rng, self.avoid)
        frame = rng.choice(
            (
                [3, mid, {}],
                [3, mid, {"status": "Accepted"}],
                [3, mid, values.any_json()],
                [4, mid, "GenericError", "", {}],
                [4, mid, rng.choice(sorted(ERROR_CODES)), values.text(50, True), {"x": 1}],
                [4, mid, 404, None],
                [4, mid, values.any_json(), values.any_json(), values.any_json()],
                [4, mid, "GenericError", "d", {}, "extra"],
                [3, mid],
                [3, mid, {}, {}],
            )
        )
        return self._text(frame)

    def _broken_json(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        text = dumps([2, mid, action, payload])
        how = rng.randrange(9)
        if how == 0:  # truncated
            text = text[: rng.randrange(len(text))]
        elif how == 1:  # characters flipped
            chars = list(text)
            for _ in range(rng.randint(1, 4)):
                chars[rng.randrange(len(chars))] = rng.choice('[]{}",:\\ 0aé\x00\x1f')
            text = "".join(chars)
        elif how == 2:  # trailing garbage
            text += rng.choice(("]", ",", "x", " []", "\x00", "{}"))
        elif how == 3:
            text = text.replace('"', "'")
        elif how == 4:
            text = "\ufeff" + text
        elif how == 5:
            text = rng.choice(("", " ", "null", "[", "]", "[2,", '"[2]"', "NaN", "[NaN]"))
        elif how == 6:
            text = text.replace(",", ",/*c*/", 1)
        elif how == 7:  # a raw control character inside a string
            text = text.replace(mid, mid + "\n", 1)
        else:  # a valid prefix, then random printable bytes
            text = text[: len(text) // 2] + "".join(
                rng.choices(string.printable, k=rng.randint(1, 40))
            )
        return text, False, None

    def _surrogate(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        mid, action, payload = self.valid_call(rng, index)
        escape = rng.choice(("\\ud800", "\\udfff", "\\ud83d", "\\udc00\\ud800", "\\ud83d\\udd0c"))
        strings = [p for p in _paths(payload) if isinstance(_get(payload, p), str)]
        marker = "\u2063SURROGATE\u2063"
        if strings:
            path = rng.choice(strings)
            _set(payload, path, _get(payload, path) + marker)
        else:
            payload[marker] = 1
        text = dumps([2, mid, action, payload]).replace(marker, escape)
        return text, False, None

    def _random_json(self, rng: random.Random, index: int) -> tuple[str, bool, None]:
        return self._text(Values(rng, self.avoid).any_json())

    def _binary(self, rng: random.Random, index: int) -> tuple[bytes, bool, Expect]:
        mid, action, payload = self.valid_call(rng, index)
        if rng.random() < 0.5:
            data = dumps([2, mid, action, payload]).encode()
        else:
            data = rng.randbytes(rng.randint(0, 200))
        return data, True, Expect(1, None, "error")

    def _size_limit(self, rng: random.Random, index: int) -> tuple[str, bool, Expect]:
        mid = self.message_id(index)
        frame = dumps([2, mid, "DataTransfer", {"vendorId": "fuzz", "data": ""}])
        over = rng.choice((0, 0, 1, 2, 3, 4096))
        pad = self.max_frame_bytes + over - len(frame.encode())
        filler = "é" if rng.random() < 0.5 else "a"  # 2 bytes in UTF-8, 1 character
        padding = filler * (pad // len(filler.encode())) + "a" * (pad % len(filler.encode()))
        text = dumps([2, mid, "DataTransfer", {"vendorId": "fuzz", "data": padding}])
        assert len(text.encode()) == self.max_frame_bytes + over
        if over == 0:
            return text, False, Expect(1, frozenset({mid}), "result", "DataTransfer")
        return text, False, Expect(1, frozenset({mid, "-1"}), "error")

    def _huge(self, rng: random.Random, index: int) -> tuple[str, bool, Expect]:
        mid = self.message_id(index)
        size = rng.choice((self.hard_limit - 64, self.hard_limit + 1))
        head = f'[2,"{mid}","DataTransfer",{{"vendorId":"fuzz","data":"'
        text = head + "a" * (size - len(head) - 3) + '"}]'
        if size > self.hard_limit:
            return text, False, Expect(0, None, "any", close=1009)
        return text, False, Expect(1, frozenset({mid, "-1"}), "error")

    def _invalid_utf8(self, rng: random.Random, index: int) -> tuple[bytes, bool, Expect]:
        mid = self.message_id(index)
        bad = rng.choice((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"))
        data = f'[2,"{mid}","Heartbeat",{{"x":"'.encode() + bad + b'"}]'
        # raw bytes sent as a text frame: the gateway must close with 1007
        return data, False, Expect(0, None, "any", close=1007)


# ------------------------------------------------------------------------------ handshakes


@dataclass(frozen=True, slots=True)
class HandshakeCase:
    """Raw bytes of an opening handshake and the statuses that are right for it.

    Status 0 stands for "closed without an HTTP response". ``then_call``: on 101, a
    Heartbeat over the new connection must be answered.
    """

    index: int
    kind: str
    request: bytes
    allowed: frozenset[int]
    then_call: bool = False

    def describe(self, limit: int = 300) -> str:
        shown = repr(self.request[:limit]) + ("…" if len(self.request) > limit else "")
        return f"#{self.index} {self.kind}: {shown}"


REFUSALS = frozenset({0, 400, 401, 403, 404, 405, 414, 426, 429, 431})
_WS_KEY = base64.b64encode(b"chargestream-fuz").decode()


def handshake(
    path: str | bytes,
    *,
    protocols: str | None = "ocpp1.6",
    authorization: bytes | None = None,
    extra: bytes = b"",
) -> bytes:
    raw_path = path.encode("utf-8", "surrogateescape") if isinstance(path, str) else path
    lines = [
        b"GET " + raw_path + b" HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: " + _WS_KEY.encode(),
        b"Sec-WebSocket-Version: 13",
    ]
    if protocols is not None:
        lines.append(b"Sec-WebSocket-Protocol: " + protocols.encode())
    if authorization is not None:
        lines.append(b"Authorization: " + authorization)
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n"


def basic(user: bytes, password: bytes) -> bytes:
    return b"Basic " + base64.b64encode(user + b":" + password)


# A fixed pool: every id the gateway accepts becomes a charge point it remembers, so the
# pool keeps what the fuzzer costs in memory bounded (ids without end are a finding of
# their own, tests/integration/fuzz/test_findings.py).
ODD_IDS: tuple[str, ...] = (
    "CP-%C3%A9",
    "%F0%9F%94%8C",
    "CP%2F1",
    "CP%00",
    "%ZZ",
    "%",
    "..",
    "..%2F..%2Fetc",
    "CP-中文",
    "CP-🔌",
    "CP-\u202e",
    "CP%0D%0AX-Injected:%201",
    "CP 1",
    "A" * 48,
    "A" * 49,
    "A" * 1000,
    "CP-1?x=1",
    "CP-1#frag",
    "CP-%20",
    "%7B%7D",
    "CP-'\"<>",
    "CP-\\",
    "-1",
    "CP-%ED%A0%80",
)


class HandshakeFuzzer:
    """Handshakes for the gateway at ``/ocpp/``; ``protected`` has ``password``."""

    def __init__(self, seed: int, *, protected: str, password: str) -> None:
        self.seed = seed
        self.protected = protected
        self.password = password

    def case(self, index: int) -> HandshakeCase:
        rng = random.Random(f"{self.seed}:handshake:{index}")
        kind = rng.choice(
            ("path", "path", "subprotocol", "auth", "auth", "garbage", "headers", "valid")
        )
        request, allowed, then_call = getattr(self, "_" + kind)(rng)
        return HandshakeCase(index, kind, request, allowed, then_call)

    def _valid(self, rng: random.Random) -> tuple[bytes, frozenset[int], bool]:
        cp = f"FUZZ-HS-{rng.randrange(8)}"
        return handshake(f"/ocpp/{cp}"), frozenset({101, 429}), True

    def _path(self, rng: random.Random) -> tuple[bytes, frozenset[int], bool]:
        odd = rng.choice(ODD_IDS)
        path = rng.choice(
            (
                f"/ocpp/{odd}",
                f"/ocpp/{odd}",
                "/ocpp/",
                "/ocpp",
                "/",
                "*",
                "/OCPP/CP-1",
                "/ocpp//CP-1",
                f"/ocpp/CP-1/{odd}",
                "/ocpp/../ocpp/CP-1",
                "http://127.0.0.1/ocpp/CP-1",
                "/ocpp/CP-1?" + "q" * 4000,
                "/" + "a" * 9000,
            )
        )
        return handshake(path), REFUSALS | {101}, True

    def _subprotocol(self, rng: random.Random) -> tuple[bytes, frozenset[int], bool]:
        protocols = rng.choice(
            (None, "", "ocpp2.1", "OCPP1.6", "ocpp1.5", "ocpp1.6j", ",,,", "x" * 5000, "é")
        )
        return handshake("/ocpp/FUZZ-HS-0", protocols=protocols), REFUSALS, False

    def _auth(self, rng: random.Random) -> tuple[bytes, frozenset[int], bool]:
        user = self.protected.encode()
        right = self.password.encode()
        options: list[tuple[bytes | None, bool]] = [
            (None, False),
            (b"Basic", False),
            (b"Basic ", False),
            (b"Basic !!!!", False),
            (b"Basic " + base64.b64encode(user), False),
            (b"Basic " + base64.b64encode(b"\xff\xfe:" + right), False),
            (basic(b"OTHER", right), False),
            (basic(user, b"wrong-password-123"), False),
            (basic(user, right + b"x"), False),
            (basic(user, right[:-1]), False),
            (basic(user, b""), False),
            (basic(user, b"\x00" * 100), False),
            (basic(user, b"p" * 100_00), False),
            (b"Bearer " + right, False),
            (b"Digest username=x", False),
            (b"Basic " + base64.b64encode(user + b":" + right)[:-2], False),
            (basic(user, right), True),
            (b"basic " + base64.b64encode(user + b":" + right), True),
        ]
        authorization, right_password = rng.choice(options)
        request = handshake(f"/ocpp/{self.protected}", authorization=authorization)
        if right_password:
            return request, frozenset({101, 429}), True
        return request, frozenset({401, 429, 431, 400}), False

    def _headers(self, rng: random.Random) -> tuple[bytes, frozenset[int], bool]:
        extra = rng.choice(
            (
                b"X-Big: " + b"a" * 10_000 + b"\r\n",
                b"".join(b"X-%d: v\r\n" % i for i in range(200)),
                b"Authorization: Basic x\r\nAuthorization: Basic y\r\n",
                b"X-Bad\x00Name: v\r\n",
                b"X-Latin: \xe9\xff\r\n",
                b"Sec-WebSocket-Protocol: ocpp1.6\r\n",
                b" folded: header\r\n",
                b"Content-Length: 5\r\n",
            )
        )
        return handshake("/ocpp/FUZZ-HS-1", extra=extra), REFUSALS | {101}, True

    def _garbage(self, rng: random.Random) -> tuple[bytes, frozenset[int], bool]:
        request = rng.choice(
            (
                rng.randbytes(rng.randint(1, 300)),
                b"\r\n\r\n",
                b"GET / HTTP/1.1\r\n\r\n",
                b"GET /ocpp/CP-1 HTTP/1.0\r\n\r\n",
                b"POST /ocpp/CP-1 HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + rng.randbytes(64),
                b"GET /ocpp/CP-1 HTTP/1.1\r\n" + b"X: " + b"y" * 70_000 + b"\r\n\r\n",
                b"G" * 20_000 + b"\r\n\r\n",
                b"GET /ocpp/CP-1 HTTP/1.1\r\nHost: x\r\n",  # never finished: EOF
                b"GET /ocpp/CP-1 HTTP/9.9\r\n\r\n",
                b"get /ocpp/CP-1 http/1.1\r\n\r\n",
            )
        )
        return request, REFUSALS, False
