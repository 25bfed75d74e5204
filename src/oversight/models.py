"""Imports every domain's models so that ``Base.metadata`` knows all app tables."""

from .warnings import models as _warnings  # noqa: F401
