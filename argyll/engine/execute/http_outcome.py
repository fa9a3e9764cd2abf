"""The Outcome of an outbound call, and how responses map to it.

Pure decisions over status, content type and body (HTTP-5, HTTP-6, RETRY-1,
COMP-4). No I/O.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from argyll.engine.flow.outcome import NO_OUTPUTS, Outcome, OutcomeKind

__all__ = [
    "NO_OUTPUTS",
    "Outcome",
    "OutcomeKind",
    "body_excerpt",
    "outputs_outcome",
    "permanent",
    "status_outcome",
    "transient",
]

_PROBLEM_JSON: Final = "application/problem+json"
_EXCERPT: Final = 200
_decode_outputs = msgspec.json.Decoder(dict[str, Any] | None).decode
_decode_any = msgspec.json.decode


def transient(cause: str) -> Outcome:
    """A retryable failure; the text is ``work not completed: <cause>``."""
    # HTTP-6, with ": " as the separator (CONV-5).
    return Outcome("transient", error=f"work not completed: {cause}")


def permanent(error: str) -> Outcome:
    """A failure that is never retried."""
    return Outcome("permanent", error=error)


def _media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def status_outcome(status: int, content_type: str, body: bytes) -> Outcome:
    """Classify a non-2xx response (HTTP-5, RETRY-1, COMP-4).

    Args:
        status: The HTTP status, not 2xx.
        content_type: The response's ``Content-Type`` (``""`` when absent).
        body: The response body (``b""`` when unread).

    Returns:
        ``transient`` for ``>= 500``, else ``permanent``, with the text
        ``step returned HTTP error: status <code>``, extended by
        ``: <detail, else title>`` for an ``application/problem+json`` body,
        else by ``: <excerpt>`` of a non-empty body (:func:`body_excerpt`).
    """
    error = base = f"step returned HTTP error: status {status}"
    if body and _media_type(content_type) == _PROBLEM_JSON:
        try:
            problem = _decode_any(body)
        except msgspec.DecodeError:
            problem = None
        if isinstance(problem, dict):
            fields = [problem.get(k) for k in ("type", "title", "detail")]
            kind, title, detail = (f if isinstance(f, str) else "" for f in fields)
            message = detail or title
            # HTTP-5 extends the text when type, title or detail is set; a
            # problem with only a type adds nothing readable, so no separator.
            if (kind or title or detail) and message:
                error = f"{error}: {message}"
    if error == base and (excerpt := body_excerpt(body)):
        error = f"{error}: {excerpt}"  # HTTP-5 (revised): keep the cause
    if status >= 500:
        return transient(error)
    return permanent(error)


def body_excerpt(body: bytes) -> str:
    """A bounded excerpt of an error body (HTTP-5, revised).

    A JSON object's ``error``, ``message`` or ``detail`` string (the first
    found), else the body's first 200 characters of text; whitespace runs
    become one space so the error stays on one line. ``""`` for an empty body.
    """
    if not body.strip():
        return ""
    try:
        data = _decode_any(body)
    except msgspec.DecodeError:
        data = None
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return _one_line(value)
    return _one_line(body[: _EXCERPT * 4].decode("utf-8", "replace"))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_EXCERPT]


def outputs_outcome(body: bytes) -> Outcome:
    """The outcome of a 2xx body (HTTP-5).

    Args:
        body: The response body.

    Returns:
        ``success`` with no outputs for an empty or whitespace body or JSON
        ``null``; ``success`` with the object for a JSON object; otherwise
        ``permanent`` ``invalid output JSON: <detail>``.
    """
    if not body:
        return NO_OUTPUTS
    try:
        outputs = _decode_outputs(body)
    except msgspec.DecodeError as exc:
        if not body.strip():
            return NO_OUTPUTS
        return permanent(f"invalid output JSON: {exc}")
    if outputs is None:
        return NO_OUTPUTS
    return Outcome("success", outputs=outputs)
