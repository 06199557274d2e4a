"""Places: Pakistan's districts as reference data, and the rule that stores one spelling each.

Writers of an applicant's ``district`` call :func:`resolve` (one value),
:func:`resolve_update` (a PATCH) or :func:`resolve_rows` (a CSV batch); see ``docs/places.md``.
"""

from service.places.service import resolve, resolve_rows, resolve_update

__all__ = ["resolve", "resolve_rows", "resolve_update"]
