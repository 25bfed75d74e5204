"""Refusals in the reader's language.

The services raise :class:`~oversight.workflow.errors.DomainError` with an English reason (what
the API answers and the audit log keeps).  A reason built as ``Msg(template, **params)`` carries
its message id: the console looks the template up in its gettext catalogue and fills in the
values, translating those that are codes (a state, a move, a role …) through :mod:`labels`, so
the Chinese console never shows an English refusal.  A reason without an id is looked up as a
whole; one the catalogue does not know is shown as it is.  A value that is itself a ``Msg``
is translated the same way.
"""

from __future__ import annotations

from typing import Any

from ..workflow.errors import DomainError, Msg
from . import labels

#: which label table translates a parameter, by the parameter's name and the refused object's type
_TABLES: dict[str, dict[str, dict[str, str]]] = {
    "status": {"complaint": labels.COMPLAINT_STATUS, "": labels.STATUS},
    "sources": {"complaint": labels.COMPLAINT_STATUS, "": labels.STATUS},
    "action": {"complaint": labels.COMPLAINT_ACTION, "": labels.ACTION},
    "actions": {"complaint": labels.COMPLAINT_ACTION, "": labels.ACTION},
    "role": {"": labels.ROLE},
    "roles": {"": labels.ROLE},
    "outcomes": {"": labels.OUTCOME},
    "ratings": {"": labels.RATING},
    "level": {"": labels.LEVEL},
    "field": {"": labels.FIELD},
}


def _value(gettext: Any, lang: str, object_type: str, key: str, value: Any) -> str:
    tables = _TABLES.get(key)
    table = (tables.get(object_type) or tables.get("")) if tables else None

    def one(v: Any) -> str:
        if isinstance(v, Msg):                 # a value that is itself a message ("all regions", "a number")
            return localize(v, gettext, lang, object_type)
        if table is not None and isinstance(v, str) and v in table:
            return gettext(table[v])
        return str(v)

    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return ("、" if lang.startswith("zh") else ", ").join(one(v) for v in items)
    return one(value)


def localize(message: str, gettext: Any, lang: str, object_type: str = "") -> str:
    """``message`` in the page's language (``gettext`` of the page's catalogue)."""
    if isinstance(message, Msg):
        template = gettext(message.template)
        if not message.params:
            return template
        values = {k: _value(gettext, lang, object_type, k, v) for k, v in message.params.items()}
        try:
            return template % values
        except (KeyError, ValueError, TypeError):        # a broken translation: the English still reads
            return str(message)
    return gettext(message) if message else message


def refusal_text(exc: DomainError, page: Any) -> str:
    """The reason of a refusal, as the page's reader reads it."""
    return localize(exc.message, page._, page.lang, exc.object_type or "")
