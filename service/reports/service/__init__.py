"""The reports' business rules, one module per concept (SQL in ``../repository``)."""

from service.reports.service.breakdown import breakdown
from service.reports.service.export import completions_csv
from service.reports.service.feed import feed
from service.reports.service.outcomes import first_exports, outcomes
from service.reports.service.progress import progress, today

__all__ = ["breakdown", "completions_csv", "feed", "first_exports", "outcomes", "progress", "today"]
