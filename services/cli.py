"""The `repairflow` command."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path

import typer

app = typer.Typer(help="RepairFlow: warranty repairs from report to the owner's sign-off.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


class Process(StrEnum):
    intake = "intake"
    warranty = "warranty"
    dispatch = "dispatch"
    followup = "followup"
    worker = "worker"


@app.command()
def up() -> None:
    """Start the whole system locally: servers from wheels, every service, demo data."""
    from services.stack.up import main

    raise typer.Exit(main())


@app.command()
def serve(process: Process) -> None:
    """Run one process of the system in the foreground (what `up` supervises)."""
    if process is Process.intake:
        from services.intake.app import main
    elif process is Process.warranty:
        from services.warranty.service import main
    elif process is Process.dispatch:
        from services.dispatch.service import main
    elif process is Process.followup:
        from services.followup.service import main
    else:
        from workflows.worker import main
    main()


@app.command()
def migrate() -> None:
    """Apply every service's database migrations to DATABASE_URL."""
    from services.common.settings import CommonSettings
    from services.stack import bootstrap

    url = CommonSettings().database_url
    asyncio.run(bootstrap.ensure_database(url))
    asyncio.run(bootstrap.migrate(url))
    typer.echo("migrations applied")


@demo_app.command("load")
def demo_load(
    file: Path = typer.Argument(None, help="A demo file; default deploy/demo/demo.yaml."),
    force: bool = typer.Option(False, help="Load even if a registry exists."),
) -> None:
    """Load the demo property group, projects and technicians into DATABASE_URL."""
    from services.common.settings import CommonSettings
    from services.stack import demo

    kwargs = {"path": file} if file else {}
    loaded = asyncio.run(demo.load_demo(CommonSettings().database_url, force=force, **kwargs))
    typer.echo("demo data loaded" if loaded else "a registry exists already; nothing loaded")
