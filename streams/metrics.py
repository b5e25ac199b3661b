"""Prometheus metrics of the derivation (served by every process's /metrics)."""

from prometheus_client import Counter

SKIPPED_EVENTS = Counter(
    "chargestream_derivation_skipped_total",
    "Events the processor skipped because deriving or storing them failed "
    "(logged as derivation_skipped)",
)
PROCESSOR_RESTARTS = Counter(
    "chargestream_processor_restarts_total",
    "Times the embedded processor died unexpectedly and was started again "
    "(logged as processor_failed)",
)
