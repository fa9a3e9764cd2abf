"""RFC 9457 problem details: the error body step servers and webhooks speak.

Plain dictionaries (and the ``ProblemDetails`` struct), so both the step
server (starlette) and ``AsyncContext`` (httpx) can use it without importing
each other.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from argyll.model.wire import Wire

__all__ = ["PROBLEM_CONTENT_TYPE", "ProblemDetails", "problem_details", "reason_phrase"]

#: https://www.rfc-editor.org/rfc/rfc9457#section-3
PROBLEM_CONTENT_TYPE = "application/problem+json"


def reason_phrase(status: int) -> str:
    """The standard reason phrase of ``status`` (``422`` -> ``Unprocessable Entity``).

    Unknown statuses give ``"HTTP <status>"``.
    """
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def problem_details(status: int, detail: str) -> dict[str, Any]:
    """A problem-details object for ``status``.

    The engine turns ``detail`` (else ``title``) into the work item's error
    text (HTTP-5, ASYNC-4), so ``detail`` should say what went wrong.

    Args:
        status: The HTTP status the problem is answered with.
        detail: The human-readable explanation; omitted when empty.

    Returns:
        ``{"type": "about:blank", "title": <reason phrase>, "status": status,
        "detail": detail}``.
    """
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": reason_phrase(status),
        "status": status,
    }
    if detail:
        problem["detail"] = detail
    return problem


class ProblemDetails(Wire, omit_defaults=True):
    """RFC 9457 problem details as a struct (the original SDK's ``ProblemDetails``).

    ``to_dict()`` fills ``title`` with the status's reason phrase when unset
    and always includes ``detail``, like ``problem_details``.
    """

    status: int
    detail: str = ""
    type: str = "about:blank"
    title: str = ""
    instance: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"type", "title", "status", "detail"}`` plus ``instance`` when set."""
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title or reason_phrase(self.status),
            "status": self.status,
            "detail": self.detail,
        }
        if self.instance:
            body["instance"] = self.instance
        return body
