"""Imports every domain's models so that ``Base.metadata`` knows all app tables."""

from .warnings import models as _warnings  # noqa: F401
from .regions import models as _regions  # noqa: F401
from .auth import models as _auth  # noqa: F401
from .audit import models as _audit  # noqa: F401
from .workflow import models as _workflow  # noqa: F401
from .attachments import models as _attachments  # noqa: F401
from .notifications import models as _notifications  # noqa: F401
from .complaints import models as _complaints  # noqa: F401
from .cleanindex import models as _cleanindex  # noqa: F401
from .console import models as _console  # noqa: F401  (indexes of the console, migration 0005)
from .rules import models as _rules  # noqa: F401  (rule parameter overrides, migration 0006)
from .scheduler import models as _scheduler  # noqa: F401  (job leases and run records, migration 0008)
