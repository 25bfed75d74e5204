"""Domain errors every service raises; the API turns them into 4xx answers with the reason."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, audit_action: str | None = None,
                 object_type: str = "", object_id: str = "", region_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.audit_action = audit_action
        self.object_type = object_type
        self.object_id = object_id
        self.region_code = region_code


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Locked(DomainError):
    status_code = 423
    code = "locked"


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


class UnsupportedType(DomainError):
    status_code = 415
    code = "unsupported_type"
