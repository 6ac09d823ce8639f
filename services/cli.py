"""The `repairflow` command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from services.common.settings import CommonSettings

app = typer.Typer(help="RepairFlow: warranty repairs from report to the owner's sign-off.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
dispatch_app = typer.Typer(help="Dispatch: who goes to a repair.", no_args_is_help=True)
app.add_typer(dispatch_app, name="dispatch")
registry_app = typer.Typer(help="The property registry: projects, buildings, units.",
                           no_args_is_help=True)
app.add_typer(registry_app, name="registry")
apikey_app = typer.Typer(help="API keys for call-center systems.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
followup_app = typer.Typer(help="Follow-up: planned quality revisits, retention.",
                           no_args_is_help=True)
app.add_typer(followup_app, name="followup")


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


@registry_app.command("import")
def registry_import(
    file: Path = typer.Argument(..., help="A .csv, one row per unit or common area (see "
                                "deploy/demo/registry-sample.csv), or a .yaml/.yml group."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file; save nothing."),
) -> None:
    """Import projects into DATABASE_URL from a spreadsheet (CSV) or YAML.

    Every row is checked first; a file with any problem changes nothing (exit 1).

    Each project in the file replaces the saved project of that code wholly.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from services.common.settings import CommonSettings
    from services.common.spreadsheets import summary_line
    from services.warranty import importer

    try:
        checked = importer.read_registry(file)
    except importer.Unreadable as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    for line in checked.report():
        typer.echo(line)
    if checked.problems:
        typer.echo(summary_line(len(checked.problems), file))
        raise typer.Exit(1)
    totals = importer.Totals.of(checked.projects)
    if dry_run:
        typer.echo(f"no problems; would import {totals}")
        return
    try:
        with typer.progressbar(length=totals.buildings + totals.units + totals.common_areas,
                               label="saving", file=sys.stderr) as bar:
            saved = asyncio.run(importer.save_projects(
                CommonSettings().database_url, checked.projects,
                on_saved=lambda s: bar.update(s.buildings + s.units + s.common_areas)))
    except (OSError, ValueError, SQLAlchemyError) as error:
        cause = getattr(error, "orig", None) or error  # the driver's words, not SQLAlchemy's
        typer.echo(f"error: nothing was imported: {cause}".splitlines()[0], err=True)
        raise typer.Exit(2) from None
    for project in saved:
        typer.echo(f"project {project.code} {'created' if project.created else 'replaced'}: "
                   f"{project.buildings} buildings, {project.units} units, "
                   f"{project.common_areas} common areas")
    typer.echo(f"imported {totals}")


@dispatch_app.command("import")
def dispatch_import(
    file: Path = typer.Argument(..., help="A .csv of teams, technicians or on-call rosters, "
                                "told apart by the header (see deploy/demo/*-sample.csv)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file; save nothing."),
) -> None:
    """Import teams, technicians or rosters into DATABASE_URL from a spreadsheet (CSV).

    Every row is checked first; a file with any problem changes nothing (exit 1).

    Teams: team,team_name,kind,party_name,projects

    Technicians: technician,name,phone,team,trades,projects,day_shift,max_open_orders

    Roster: team,technician,kind,starts_at,ends_at,day (kind: on_call, leave, duty_leader)

    A roster file replaces the whole roster of every team it names.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from services.common.errors import ServiceUnavailable
    from services.common.settings import CommonSettings
    from services.common.spreadsheets import summary_line
    from services.dispatch import importer

    try:
        sheet = importer.read_sheet(file)
    except importer.Unreadable as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    settings = CommonSettings()
    try:
        # Projects are the warranty service's: ask it, as the dispatch service does.
        projects = asyncio.run(importer.registry_projects(settings.nats_url,
                                                          settings.nats_prefix))
    except (OSError, ServiceUnavailable) as error:
        typer.echo(f"error: the warranty service must be running to check projects "
                   f"(NATS_URL={settings.nats_url}): {error}".splitlines()[0], err=True)
        raise typer.Exit(2) from None
    try:
        checked, saved = asyncio.run(importer.import_sheet(
            settings.database_url, sheet, projects=projects, dry_run=dry_run))
    except (OSError, ValueError, SQLAlchemyError) as error:
        cause = getattr(error, "orig", None) or error  # the driver's words, not SQLAlchemy's
        typer.echo(f"error: nothing was imported: {cause}".splitlines()[0], err=True)
        raise typer.Exit(2) from None
    for line in checked.report():
        typer.echo(line)
    if checked.problems:
        typer.echo(summary_line(len(checked.problems), file))
        raise typer.Exit(1)
    if dry_run:
        typer.echo(f"no problems; would import {checked.totals()}")
        return
    for line in saved:
        typer.echo(line)
    typer.echo(f"imported {checked.totals()}")


@dispatch_app.command("who")
def dispatch_who(
    project: str = typer.Option(..., help="Project code, e.g. SH-LJ."),
    trade: str = typer.Option(..., help="Trade, e.g. plumbing, electrical, waterproofing."),
    at: str = typer.Option(None, help="When, ISO 8601 with or without zone (project zone); "
                                      "default now."),
    emergency: bool = typer.Option(False, help="An emergency may go to someone busy."),
    delegate_to: str = typer.Option(None, help="The liable party, for a delegated repair."),
) -> None:
    """Print who would go to a repair now (or at --at), and why. Changes nothing."""
    from services.common.settings import CommonSettings
    from services.dispatch.who import who_would_go

    try:
        choice, moment = asyncio.run(who_would_go(
            CommonSettings().database_url, project=project, trade=trade, at=at,
            emergency=emergency, delegate_to=delegate_to))
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{project} / {trade} at {moment.isoformat(timespec='minutes')}:")
    if choice.technician_id:
        typer.echo(f"  {choice.name} ({choice.technician_id}) because {choice.rule}")
    else:
        typer.echo(f"  nobody: {choice.rule}")
        if choice.available_from:
            typer.echo(f"  someone is available from "
                       f"{choice.available_from.isoformat(timespec='minutes')}")
        raise typer.Exit(1)


@apikey_app.command("create")
def apikey_create(
    group: str = typer.Option(None, help="The property group the key is for, e.g. HX."),
    projects: str = typer.Option(None, help="Only these of the group's projects, comma "
                                 "separated (default: all of them, present and future)."),
    name: str = typer.Option(None, help="Whose key, e.g. 'HX hotline vendor'."),
    rate: int = typer.Option(600, min=1, max=100_000, help="Requests per minute."),
    all_groups: bool = typer.Option(False, "--all-groups",
                                    help="An operator's key for every group (no --group)."),
) -> None:
    """Create a key and print it once (only its hash is kept).

    Projects are checked against the registry, so the warranty service must be running.
    """
    from services.common.errors import ServiceUnavailable
    from services.common.settings import CommonSettings
    from services.intake import keys

    if all_groups == (group is not None):
        typer.echo("error: give --group G, or --all-groups for an operator's key", err=True)
        raise typer.Exit(2)
    if all_groups and projects:
        typer.echo("error: --projects narrows a group's key; an operator's key has no group",
                   err=True)
        raise typer.Exit(2)
    settings = CommonSettings()
    wanted = sorted({p.strip() for p in projects.split(",") if p.strip()}) if projects else None
    if group is not None:
        try:
            known = asyncio.run(keys.group_projects(settings.nats_url, settings.nats_prefix,
                                                    group))
        except (OSError, ServiceUnavailable) as error:
            typer.echo(f"error: the warranty service must be running to check the group "
                       f"(NATS_URL={settings.nats_url}): {error}".splitlines()[0], err=True)
            raise typer.Exit(2) from None
        unknown = [p for p in wanted or [] if p not in known]
        if unknown:
            typer.echo(f"error: not projects of group {group}: {', '.join(unknown)}", err=True)
            raise typer.Exit(1)
        if not known:
            typer.echo(f"warning: group {group} has no projects yet; the key will see the "
                       "ones it creates", err=True)
    issued = asyncio.run(keys.create_key(
        settings.database_url, name=name or (f"{group} key" if group else "operator key"),
        group=group, projects=wanted, rate_per_minute=rate))
    typer.echo(f"created key {issued.key.id}; keep it now, it is not shown again:")
    typer.echo(issued.token)


@apikey_app.command("list")
def apikey_list(group: str = typer.Option(None, help="Only this group's keys.")) -> None:
    """List keys (never their secrets)."""
    from services.common.settings import CommonSettings
    from services.intake import keys

    for line in asyncio.run(keys.list_keys(CommonSettings().database_url, group=group)):
        typer.echo(line.describe())


@apikey_app.command("revoke")
def apikey_revoke(key_id: str = typer.Argument(..., help="The key's id (from `list`).")) -> None:
    """Revoke a key: its next request is refused."""
    from services.common.settings import CommonSettings
    from services.intake import keys

    if not asyncio.run(keys.revoke_key(CommonSettings().database_url, key_id)):
        typer.echo(f"error: no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


T = TypeVar("T")


def _ask_followup(settings: CommonSettings, call: Coroutine[Any, Any, T]) -> T:
    """Run a follow-up command; a refusal exits 1, the service away exits 2, one line each."""
    from services.common.errors import Rejection, ServiceUnavailable

    try:
        return asyncio.run(call)
    except Rejection as refusal:
        typer.echo(f"error: {refusal.message_en} {refusal.message_zh}", err=True)
        raise typer.Exit(1) from None
    except (OSError, ServiceUnavailable) as error:
        typer.echo(f"error: the follow-up service must be running "
                   f"(NATS_URL={settings.nats_url}): {error}".splitlines()[0], err=True)
        raise typer.Exit(2) from None


@followup_app.command("plan")
def followup_plan(
    project: str = typer.Option(..., help="Project code, e.g. SH-LJ."),
    year: int = typer.Option(..., help="The year to plan, 2000 to 2100."),
) -> None:
    """Plan a project's quality revisits of a year (年度工程质量回访计划) and print them.

    Planning again adds only what is missing. Also creates or updates the project's
    schedule `revisit-plan-<project>`, which plans the next year every 1 December.
    The follow-up and warranty services must be running.
    """
    from services.common.settings import CommonSettings
    from services.followup.admin import YEARS, plan_table, plan_with_settings

    if year not in YEARS:
        typer.echo(f"error: --year must be between {YEARS.start} and {YEARS.stop - 1}, "
                   f"got {year}", err=True)
        raise typer.Exit(2)
    settings = CommonSettings()
    outcome = _ask_followup(settings, plan_with_settings(settings, project=project, year=year))
    plan = outcome.plan
    for line in plan_table(plan):
        typer.echo(line)
    typer.echo(f"{plan.project} {plan.year}: {len(plan.revisits)} revisits, {plan.added} new; "
               f"{plan.certificates_missing} certificates not issued yet")
    if outcome.schedule_id is None:
        typer.echo(f"error: the plan is saved, but the schedule could not be created or "
                   f"updated (TEMPORAL_ADDRESS={settings.temporal_address}): "
                   f"{outcome.schedule_error}".splitlines()[0], err=True)
        raise typer.Exit(2)
    typer.echo(f"schedule {outcome.schedule_id}: plans the next year every 1 December")


@followup_app.command("archive")
def followup_archive(
    project: str = typer.Option(None, help="Only this project (default: every project)."),
    as_of: str = typer.Option(None, "--as-of", help="Count the retention back from this "
                              "moment, ISO 8601 (default now)."),
) -> None:
    """Archive records older than each project's retention (default two years).

    Made visits and revisits and handled complaints are marked archived, never deleted;
    lists leave them out. Open work is never archived.
    """
    from datetime import UTC, datetime

    from services.common.settings import CommonSettings
    from services.followup.admin import archive_with_settings

    moment = None
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError:
            typer.echo(f"error: --as-of {as_of!r} is not an ISO 8601 date or time", err=True)
            raise typer.Exit(2) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    settings = CommonSettings()
    done = _ask_followup(settings,
                         archive_with_settings(settings, project=project, as_of=moment))
    for row in done.projects:
        typer.echo(f"{row.project}: kept {row.retention_years} years, archived before "
                   f"{row.cutoff.isoformat(timespec='minutes')}: {row.visits} visits, "
                   f"{row.revisits} revisits, {row.complaints} complaints")
    typer.echo(f"archived {done.total} records")


bench_app = typer.Typer(help="Benchmarks (bench/README.md).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("storm")
def bench_storm(
    repairs: int = typer.Option(250, min=1, help="Reports to file in the storm."),
    rate: float = typer.Option(0.0, min=0.0, help="Reports per second; 0: as fast as it goes."),
    concurrency: int = typer.Option(32, min=1, help="Requests in flight at once."),
    base_url: str | None = typer.Option(None, help="A running stack's intake (else one is "
                                                   "started for the run)."),
    api_key: str | None = typer.Option(None, help="An operator's key for --base-url."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures here."),
) -> None:
    """A report storm through the real stack, measured against the raw ceilings of the same
    Temporal server in the same run; exits 1 if any accepted report was lost."""
    from bench.cli import storm_command

    raise typer.Exit(storm_command(repairs=repairs, rate=rate, concurrency=concurrency,
                                   base_url=base_url, api_key=api_key, json_out=json_out))
