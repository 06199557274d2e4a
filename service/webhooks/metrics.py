"""Prometheus metrics of the outbox and the dispatcher."""

from prometheus_client import Counter, Gauge

EVENTS_FANNED_OUT = Counter(
    "enroll_events_dispatched_total", "Events the dispatcher has turned into deliveries."
)
DELIVERIES = Counter(
    "enroll_webhook_deliveries_total",
    "Delivery attempts by outcome (succeeded, failed, retry).",
    ["outcome"],
)
ENDPOINT_FAILURES = Counter(
    "enroll_webhook_endpoint_failures_total", "Failed attempts per endpoint.", ["webhook_id"]
)
OLDEST_PENDING = Gauge(
    "enroll_webhook_oldest_pending_seconds",
    "Age of the oldest delivery not yet delivered (0 when none).",
    multiprocess_mode="max",
)
DISPATCHER_OUTAGES = Counter(
    "enroll_dispatcher_database_errors_total",
    "Dispatcher rounds lost to an unreachable database (it backs off and resumes).",
)
