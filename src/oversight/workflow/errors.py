"""Domain errors every service raises; the API turns them into 4xx answers with the reason.

A reason can be a :class:`Msg`: the English text the API answers and the audit log keeps,
which also carries its message id (the ``%(name)s`` template) and the values put into it, so
a page in another language shows it translated (the console's gettext catalogue holds the
templates: ``python -m oversight.console.catalogs`` extracts every ``Msg("…")`` of the package).
"""

from __future__ import annotations

from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in (sorted(value) if isinstance(value, (set, frozenset)) else value))
    return value


class Msg(str):
    """A message with an id: ``Msg("cannot %(action)s a warning that is %(status)s", action=…, status=…)``
    is the English sentence (a ``str``) with ``.template`` (the msgid) and ``.params`` kept for
    translation.  Lists are joined with commas in English; the translator joins them its way."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Msg:
        text = template % {k: _plain(v) for k, v in params.items()} if params else template
        self = super().__new__(cls, text)
        self.template = template
        self.params = params
        return self

    def __reduce__(self):  # noqa: ANN204 - pickles as itself (a str subclass with attributes)
        return (_rebuild, (self.template, self.params))


def _rebuild(template: str, params: dict[str, Any]) -> Msg:
    return Msg(template, **params)


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
