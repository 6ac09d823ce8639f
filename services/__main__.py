"""`python -m services ...` is the `repairflow` command (used by the supervisor)."""

from services.cli import app

app()
