"""The one error for a status change the lifecycle does not allow (cohorts, enrollments)."""

from service.core.errors import Conflict


class InvalidTransition(Conflict):
    """409 ``invalid-transition``: the resource is not in a status the action starts from.

    ``current_status`` is the status it is in (also in the problem body).
    """

    title, slug = "Invalid status change", "invalid-transition"

    def __init__(self, detail: str, *, current_status: str) -> None:
        super().__init__(detail, extra={"current_status": current_status})
