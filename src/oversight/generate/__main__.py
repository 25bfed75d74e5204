"""``python -m oversight.generate --out DIR [--villages N] [--seed S] [--scale X]``."""

from .cli import app

app(prog_name="python -m oversight.generate")
