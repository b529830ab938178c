"""The domain's exceptions: one root, one class per kind of refusal; no HTTP here.

Each class carries a ``kind`` (what went wrong, in the domain's words) and a stable
``code``; the web layer maps kinds to HTTP statuses in one table (portal/errors.py).
Messages are English msgids, translated where they are shown: every one raised in
cases/ is extracted into the catalogue (``python -m portal.i18n check``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where shown."""
    return message


class Message(str):
    """An English message with values: reads as the filled-in text, translates by its msgid.

    ``Message("Line %(line)d: expected %(count)d columns", line=4, count=7)`` is the string
    "Line 4: expected 7 columns"; the portal's translations look up the msgid and fill in
    the same values, so a message that names a value is still translated.
    """

    msgid: str
    params: Mapping[str, object]

    def __new__(cls, msgid: str, **params: object) -> Message:
        made = super().__new__(cls, msgid % params if params else msgid)
        made.msgid, made.params = msgid, params
        return made


class Kind(StrEnum):
    """What kind of refusal an error is; the web layer decides how to answer each."""

    BAD_REQUEST = "bad_request"
    INVALID = "invalid"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    GONE = "gone"
    CONFLICT = "conflict"
    THROTTLED = "throttled"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"


class CaseError(Exception):
    """Root of every domain error: ``kind`` says what went wrong, ``code`` names it stably."""

    kind: ClassVar[Kind] = Kind.BAD_REQUEST
    code = "bad_request"
    default_message: ClassVar[str] = N_("The request could not be understood.")

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        if code:
            self.code = code


class Invalid(CaseError):
    """The input is not acceptable."""

    kind = Kind.INVALID
    code = "invalid"
    default_message = N_("The input is not acceptable.")

    def __init__(
        self, message: str = "", *, fields: Mapping[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.fields = dict(fields or {})


class Unauthorized(CaseError):
    """The credentials are wrong or missing."""

    kind = Kind.UNAUTHORIZED
    code = "unauthorized"
    default_message = N_("The credentials are wrong or missing.")


class Forbidden(CaseError):
    """Your roles do not allow this."""

    kind = Kind.FORBIDDEN
    code = "forbidden"
    default_message = N_("Your roles do not allow this.")


class NotFound(CaseError):
    """Not found."""

    kind = Kind.NOT_FOUND
    code = "not_found"
    default_message = N_("Not found.")


class Conflict(CaseError):
    """The request conflicts with the current state."""

    kind = Kind.CONFLICT
    code = "conflict"
    default_message = N_("The request conflicts with the current state.")


class Throttled(CaseError):
    """Too many attempts; wait before trying again."""

    kind = Kind.THROTTLED
    code = "throttled"
    default_message = N_("Too many attempts; wait before trying again.")

    def __init__(self, message: str = "", *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after
