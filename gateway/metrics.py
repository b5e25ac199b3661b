"""Prometheus metrics of the gateway (exposed by the API at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

FRAMES = Counter("chargestream_frames_total", "OCPP frames", ["direction"])
FRAMES_IN = FRAMES.labels("in")  # bound once: labels() costs ~1 µs per call
FRAMES_OUT = FRAMES.labels("out")
CALLS = Counter("chargestream_calls_total", "CALLs received from charge points", ["action"])
CALL_ERRORS = Counter(
    "chargestream_call_errors_sent_total", "CALLERRORs sent to charge points", ["error_code"]
)
UNMATCHED_RESULTS = Counter(
    "chargestream_unmatched_results_total", "CALLRESULT/CALLERROR with an unknown message id"
)
SCHEMA_DEVIATIONS = Counter(
    "chargestream_schema_deviations_total",
    "Payloads that broke their schema but were accepted (lenient charge points)",
    ["action"],
)
LOG_FAILURES = Counter(
    "chargestream_event_log_failures_total", "Frames left unanswered: the log could not store them"
)
CONNECTIONS = Gauge("chargestream_connected_charge_points", "Open charge point WebSockets")
HANDSHAKE_REFUSALS = Counter(
    "chargestream_handshake_refusals_total", "WebSocket upgrades refused", ["reason"]
)
CALL_SECONDS = Histogram(
    "chargestream_call_seconds",
    "Frame received to CALLRESULT sent, including the durable append",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
COMMANDS = Counter("chargestream_commands_total", "Operator commands by outcome", ["outcome"])
PASSWORD_CHECKS = Counter(
    "chargestream_password_checks_total",
    "Basic-auth passwords checked: verified or failed (PBKDF2 in the pool), or remembered",
    ["result"],
)
DUPLICATE_STOPS = Counter(
    "chargestream_duplicate_stop_transactions_total",
    "StopTransactions for a transaction already stopped (answered; the first stop is kept)",
)
TRUNCATED_FRAMES = Counter(
    "chargestream_refused_frames_truncated_total",
    "Refused frames stored as a truncated copy with their size and SHA-256",
)


_calls_by_action: dict[str, Counter] = {}


def calls(action: str) -> Counter:
    """The CALLS child of an OCPP action (callers map unknown actions to one label)."""
    child = _calls_by_action.get(action)
    if child is None:
        child = _calls_by_action[action] = CALLS.labels(action)
    return child
