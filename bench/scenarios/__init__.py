"""One module per scenario; each has NAME, TITLE and run(settings) -> result dict.

A result dict has ``status`` ("ok", "pending" or "failed"), ``points`` (the
measured rows), ``notes`` and scenario-specific numbers; bench/report.py turns
it into a table with the goals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.harness import Settings
from bench.scenarios import (
    attendance,
    catalog,
    enroll,
    events,
    export,
    import_,
    offers,
    outcomes,
    progress,
    register,
)

Runner = Callable[[Settings], dict[str, Any]]

# In run order; progress seeds the database that export reads. "catalog" (a
# harness check on foundation endpoints) runs only when asked for by name.
SCENARIOS: dict[str, tuple[str, Runner]] = {
    "catalog": (catalog.TITLE, catalog.run),
    "register": (register.TITLE, register.run),
    "enroll-hot": (enroll.TITLE_HOT, enroll.run_hot),
    "enroll-spread": (enroll.TITLE_SPREAD, enroll.run_spread),
    "progress": (progress.TITLE, progress.run),
    "export": (export.TITLE, export.run),
    "import": (import_.TITLE, import_.run),
    "attendance-mark": (attendance.TITLE_MARK, attendance.run_mark),
    "attendance-roster": (attendance.TITLE_ROSTER, attendance.run_roster),
    "outcomes": (outcomes.TITLE, outcomes.run),
    "churn": (offers.TITLE_CHURN, offers.run_churn),
    "offer-sweep": (offers.TITLE_SWEEP, offers.run_sweep),
    "events": (events.TITLE, events.run),
}

DEFAULT = [name for name in SCENARIOS if name != "catalog"]
