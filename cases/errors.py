"""The domain's exceptions: one root, one class per answer the web layer gives."""

from __future__ import annotations

from collections.abc import Mapping


class CaseError(Exception):
    """Root of every domain error; `code` is the stable machine-readable name."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or "")
        self.message = message or (self.__class__.__doc__ or "").strip()
        if code:
            self.code = code


class Invalid(CaseError):
    """The input is not acceptable."""

    status = 422
    code = "invalid"

    def __init__(
        self, message: str = "", *, fields: Mapping[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.fields = dict(fields or {})


class Unauthorized(CaseError):
    """The credentials are wrong or missing."""

    status = 401
    code = "unauthorized"


class Forbidden(CaseError):
    """Your roles do not allow this."""

    status = 403
    code = "forbidden"


class NotFound(CaseError):
    """Not found."""

    status = 404
    code = "not_found"


class Conflict(CaseError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"


class Throttled(CaseError):
    """Too many attempts; wait before trying again."""

    status = 429
    code = "throttled"

    def __init__(self, message: str = "", *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after
