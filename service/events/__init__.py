"""The transactional outbox and the events feed.

Emit a new type with one call in the transaction of the change::

    from service.events import emit
    emit(session, "applicant.linked", {"applicant_id": applicant.id})
"""

from service.events.emit import emit

__all__ = ["emit"]
