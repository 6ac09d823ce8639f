"""`python -m bench storm`: a typhoon's reports against a stack, and the figures of issue 8.

The run, in order (each phase on the same stack and the same Temporal server; bench/README.md
says what each figure means):

1. ceilings: the raw start rate of a no-op workflow and the completion rate of a
   repair-shaped one (bench/ceilings.py);
2. storm: N reports at the full rate (or as fast as `concurrency` callers go), the
   call-center mix of bench/mix.py; a share driven to the owner's sign-off as their offers
   come; some left open with a visit agreed a few seconds ahead, so that their arrival
   deadline is breached (the lateness of deadline timers);
3. an easy rate: half of what the storm got through to its offers, open loop;
4. half the ceiling: reports at half the raw start rate, open loop;
5. lifecycles: L repairs reported and all driven to the end, nothing else sent: completed
   lifecycles per second and the CPU each costs our processes;
6. deadline probes at ease, then every 2xx checked: its row (GET /v1/repairs/{id}) and its
   workflow (describe `repair-<id>`), repeat calls folded, retries answered alike; the
   processes at rest.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from bench import ceilings, profile, report
from bench.callcenter import Answer, CallCenter
from bench.events import Events
from bench.lifecycle import Lifecycle, drive
from bench.mix import Place, Request, places_of, plan, with_storm_units
from bench.procs import Sampler, kind_of, machine
from bench.stack import Stack, attach, start_own
from services.common.registry_contracts import ProjectIn
from services.common.settings import CommonSettings

CREW_TEAM = "BENCH-CREW"
CREW_OPEN_ORDERS = 50  # the most dispatch allows a technician
ALL_TRADES = ["plumbing", "electrical", "waterproofing", "doors_windows", "hvac", "elevator",
              "fire", "low_voltage", "civil", "decoration", "facade", "landscaping"]


@dataclass
class Options:
    repairs: int = 250
    rate: float = 0.0  # reports/s at full rate; 0: as fast as `concurrency` callers go
    concurrency: int = 32
    base_url: str | None = None  # an existing stack (`make up`); else the bench starts one
    api_key: str | None = None
    json_out: Path | None = None
    drive_share: float = 0.2  # of the storm's new repairs, driven to the owner's sign-off
    rework_share: float = 0.1  # of the driven, rejected once by the owner
    lifecycles: int = 30
    ceiling_starts: int = 400
    ceiling_shaped: int = 100
    half_seconds: float = 3.0  # of reports at half the raw start ceiling
    easy_seconds: float = 8.0  # of reports at half the rate the storm got through
    breaches: int = 16  # deadline probes among the storm's repairs
    quiet_breaches: int = 4  # and at ease, after the other phases
    rest_seconds: float = 5.0
    seed: int = 8
    keep_state: bool = False
    profile: Path | None = None  # py-spy our processes during the storm, into this folder
    # For an existing stack: where its servers are (defaults: `make up`'s, or the env's).
    nats_url: str | None = None
    temporal_address: str | None = None


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- preparing the stack -------------------------------------------------------------------

async def prepare_places(center: CallCenter, *, needed: int, tag: str) -> list[Place]:
    """The demo projects' places, with storm units added so that `needed` new repairs find
    a place and category no open repair has (at about a quarter of the combinations)."""
    listed = (await center.call("GET", "/v1/projects")).json()["projects"]
    projects = [ProjectIn.model_validate((await center.call(
        "GET", f"/v1/projects/{p['code']}")).json()) for p in listed]
    buildings = sum(len(p.buildings) for p in projects) or 1
    per_building = max(0, math.ceil(needed * 4 / (25 * buildings)))
    saved = []
    for project in projects:
        document = with_storm_units(project, per_building, tag)
        answer = await center.call("PUT", f"/v1/projects/{project.code}",
                                   document.model_dump(mode="json"))
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"adding storm units to {project.code}: {answer.text[:300]}")
        saved.append(document)
    return places_of(saved)


async def prepare_crew(center: CallCenter, *, technicians: int, projects: list[str]) -> None:
    """A storm crew on call for the run: after a typhoon a group calls in every team it has,
    so that dispatch offers each report at once instead of the demo's few technicians
    taking three orders each (dispatch's limit of open orders is the roster's, not ours)."""
    team = {"id": CREW_TEAM, "name": "台风抢修队（压测）", "kind": "property_engineering",
            "projects": projects}
    await _put(center, f"/v1/teams/{CREW_TEAM}", team)
    ids = [f"BENCH-T-{n:03d}" for n in range(1, technicians + 1)]
    for n, technician in enumerate(ids, start=1):
        await _put(center, f"/v1/technicians/{technician}", {
            "id": technician, "name": f"抢修队员{n:03d}", "phone": f"1390000{n:04d}",
            "team": CREW_TEAM, "trades": ALL_TRADES, "projects": projects,
            "day_shift": False, "max_open_orders": CREW_OPEN_ORDERS})
    now = datetime.now(UTC)
    await _put(center, f"/v1/teams/{CREW_TEAM}/roster", {
        "team": CREW_TEAM, "on_call": [
            {"technician": t, "starts_at": (now - timedelta(hours=1)).isoformat(),
             "ends_at": (now + timedelta(days=1)).isoformat()} for t in ids]})


async def _put(center: CallCenter, path: str, body: dict) -> None:
    answer = await center.call("PUT", path, body)
    if answer.status_code not in (200, 201):
        raise RuntimeError(f"PUT {path}: {answer.status_code} {answer.text[:300]}")


# --- sending reports -----------------------------------------------------------------------

@dataclass
class Sent:
    """A phase's reports and their answers (first sends, and retries of the same key)."""

    answers: dict[int, Answer] = field(default_factory=dict)
    retries: list[tuple[Answer, Answer]] = field(default_factory=list)  # (first, again)
    began: float = 0.0
    ended: float = 0.0


async def send(center: CallCenter, requests: list[Request], *, rate: float,
               on_answer=None) -> Sent:
    """Every request of the plan: open loop at `rate` per second (latency counted from the
    moment each was due), or as fast as the callers go (`rate` 0: from when it was sent).
    A repeat waits for the answer to the report it repeats."""
    sent = Sent(began=time.time())
    done: dict[int, asyncio.Future] = {
        r.index: asyncio.get_running_loop().create_future() for r in requests}

    async def one(request: Request, due: float | None) -> None:
        if due is not None:
            await asyncio.sleep(max(0.0, due - time.time()))
        if request.repeat_of is not None and request.repeat_of in done:
            await done[request.repeat_of]
        if request.retry == "together":
            first, again = await asyncio.gather(center.report(request, due),
                                                center.report(request, due))
            sent.retries.append((first, again))
        else:
            first = await center.report(request, due)
        sent.answers[request.index] = first
        done[request.index].set_result(first)
        if on_answer is not None:
            on_answer(first)
        if request.retry == "after":
            sent.retries.append((first, await center.report(request)))

    start = time.time() + 0.05
    await asyncio.gather(*(one(r, start + i / rate if rate > 0 else None)
                           for i, r in enumerate(requests)))
    sent.ended = max((a.answered_at for a in sent.answers.values()), default=time.time())
    if rate > 0:
        sent.began = start
    else:
        sent.began = min((a.sent_at for a in sent.answers.values()), default=sent.began)
    return sent


# --- the run -------------------------------------------------------------------------------

async def run(options: Options) -> dict[str, Any]:
    started = time.time()
    result: dict[str, Any] = {"options": _jsonable(asdict(options)), "machine": machine()}
    if options.base_url:
        settings = CommonSettings()
        key = options.api_key or _saved_key(settings)
        stack = attach(base_url=options.base_url, api_key=key,
                       nats_url=options.nats_url or settings.nats_url,
                       temporal_address=options.temporal_address or settings.temporal_address,
                       namespace=settings.temporal_namespace, task_queue=settings.task_queue,
                       nats_prefix=settings.nats_prefix)
        log(f"using the stack at {stack.base_url} ({len(stack.processes)} processes found)")
    else:
        log("starting a stack of our own (servers from wheels, demo data) ...")
        stack = await start_own()
        log(f"stack up in {time.time() - started:.1f}s at {stack.base_url}: "
            + ", ".join(f"{n}={p}" for n, p in stack.processes.items()))
    result["stack"] = {"owned": stack.owned, "base_url": stack.base_url,
                       "processes": stack.processes}
    worker: ceilings.CeilingWorker | None = None
    center = CallCenter(stack.base_url, stack.api_key, options.concurrency)
    events = Events()
    sampler = Sampler(stack.processes).start()
    try:
        log_dir = (stack.home / "logs") if stack.home else Path(tempfile.gettempdir())
        worker = ceilings.CeilingWorker.start(stack.temporal_address, stack.namespace, log_dir)
        sampler.add("bench-ceiling-worker", worker.pid)
        await events.listen(stack.nats_url, stack.nats_prefix)
        client = await Client.connect(stack.temporal_address, namespace=stack.namespace)
        await _phases(options, stack, center, events, client, worker, sampler, result)
    finally:
        sampler.stop()
        await center.close()
        await events.close()
        if worker is not None:
            worker.stop()
        if stack.owned:
            log("stopping the stack ...")
            await stack.stop(keep_state=options.keep_state)
    result["took_s"] = round(time.time() - started, 1)
    return result


async def _phases(options: Options, stack: Stack, center: CallCenter, events: Events,
                  client: Client, worker: ceilings.CeilingWorker, sampler: Sampler,
                  result: dict[str, Any]) -> None:
    rng = random.Random(options.seed)
    rest_before = sampler.rss()
    loaded: list[tuple[float, float]] = []  # when the bench kept the stack busy

    # 1. the ceilings --------------------------------------------------------------------
    log("ceilings: warming the ceiling worker ...")
    await ceilings.warm_up(client, worker.task_queue)
    began = time.time()
    starts = await ceilings.start_ceiling(client, worker.task_queue,
                                          count=options.ceiling_starts,
                                          concurrency=options.concurrency)
    log(f"ceilings: {starts['per_s']:.1f} no-op starts/s")
    shaped = await ceilings.shaped_ceiling(client, worker.task_queue,
                                           count=options.ceiling_shaped,
                                           concurrency=options.concurrency)
    log(f"ceilings: {shaped['per_s']:.1f} repair-shaped workflows/s")
    loaded.append((began, time.time()))
    result["ceilings"] = {"start_per_s": _r(starts["per_s"]), "start": starts,
                          "shaped_per_s": _r(shaped["per_s"]), "shaped": shaped}
    half_rate = starts["per_s"] / 2
    half_count = max(10, round(half_rate * options.half_seconds))

    # preparing: places for every new repair of the run, and a crew to offer them to ------
    tag = "S" if stack.owned else f"S{rng.randrange(36**3):03X}"[:4]
    easy_guess = round(options.easy_seconds * 20)
    needed = options.repairs + half_count + easy_guess + options.lifecycles + 20
    places = await prepare_places(center, needed=needed, tag=tag)
    projects = sorted({p.project for p in places})
    crew = math.ceil(needed / (CREW_OPEN_ORDERS - 10)) + 2
    await prepare_crew(center, technicians=crew, projects=projects)
    log(f"prepared {len(places)} places (storm units '{tag}…') and a crew of {crew} on call")
    taken: set = set()

    # 2. the storm -----------------------------------------------------------------------
    storm_plan = plan(places=places, count=options.repairs, seed=options.seed, tag=f"{tag}s",
                      taken=taken)
    fresh = [r for r in storm_plan if r.kind == "fresh"]
    free = [r for r in fresh if not r.keep_open]
    rng.shuffle(free)
    n_drive = round(len(fresh) * options.drive_share)
    driven_idx = {r.index for r in free[:n_drive]}
    probe_idx = [r.index for r in free[n_drive:n_drive + options.breaches]]
    rework_idx = {i for i in driven_idx if rng.random() < options.rework_share}
    lifecycles: list[asyncio.Task] = []
    probes: list[asyncio.Task] = []
    span_hint = options.repairs / (options.rate or 10.0)

    def on_answer(answer: Answer) -> None:
        index = answer.request.index
        if not answer.ok or answer.request.kind != "fresh":
            return
        if index in driven_idx:
            lifecycles.append(asyncio.create_task(drive(
                center, events, answer.repair_id, rework=index in rework_idx)))
        elif index in probe_idx:
            # Due over the storm and after it, so that timers fire in the thick of it.
            delay = 5.0 + span_hint * 1.5 * probe_idx.index(index) / max(1, len(probe_idx))
            probes.append(asyncio.create_task(breach_probe(center, events, answer.repair_id,
                                                           delay)))

    log(f"storm: {len(storm_plan)} reports ({len(fresh)} new, "
        f"{len(storm_plan) - len(fresh)} repeat calls, "
        f"{sum(1 for r in storm_plan if r.retry)} retried, "
        f"{sum(1 for r in storm_plan if r.emergency)} emergencies), "
        f"rate {'unthrottled' if not options.rate else options.rate}, "
        f"concurrency {options.concurrency}; driving {len(driven_idx)}, "
        f"{len(probe_idx)} deadline probes")
    cpu0 = sampler.cpu()
    recorders = profile.start({n: p for n, p in stack.processes.items() if kind_of(n) == "ours"},
                              options.profile) if options.profile else {}
    storm = await send(center, storm_plan, rate=options.rate, on_answer=on_answer)
    log(f"storm: sent in {storm.ended - storm.began:.1f}s; waiting for the offers and the "
        "driven lifecycles ...")
    storm_new = [a.repair_id for a in storm.answers.values()
                 if a.ok and a.request.kind == "fresh"]
    lag_at_storm_end = await events.lag(stack.nats_prefix)
    await settle(events, storm_new)
    lag_at_offers = await events.lag(stack.nats_prefix)
    storm_lives: list[Lifecycle] = list(await asyncio.gather(*lifecycles))
    cpu1 = sampler.cpu()
    loaded.append((storm.began, time.time()))
    if recorders:
        profile.stop(recorders)
        result["profile"] = {name: profile.summarise(options.profile / f"{name}.txt")
                             for name in recorders}
    log(f"storm: {sum(1 for x in storm_lives if x.outcome == 'closed')}/{len(storm_lives)} "
        "driven lifecycles closed")
    await asyncio.sleep(2)

    # 3. an easy rate: half of what the stack got through in the storm, from the first
    # report to the last first offer (not the POSTs alone: the workflows' share of the work
    # came after them) --------------------------------------------------------------------
    offered_at = [events.first_offer[r][0].timestamp() for r in storm_new
                  if r in events.first_offer]
    through = report.rate(len(offered_at), report.span([storm.began], offered_at)
                          if offered_at else None) or 1.0
    easy_rate = max(0.5, through / 2)
    easy_plan = plan(places=places, count=max(5, round(easy_rate * options.easy_seconds)),
                     seed=options.seed + 3, tag=f"{tag}e", start_index=30_000_000,
                     taken=taken, repeats=False)
    log(f"easy rate: {len(easy_plan)} reports at {easy_rate:.1f}/s (half of the {through:.1f} "
        "reports/s the storm got through to their offers), open loop ...")
    began = time.time()
    easy = await send(center, easy_plan, rate=easy_rate)
    await settle(events, [a.repair_id for a in easy.answers.values() if a.ok])
    loaded.append((began, time.time()))
    await asyncio.sleep(2)

    # 4. half the raw start ceiling --------------------------------------------------------
    half_plan = plan(places=places, count=half_count, seed=options.seed + 1, tag=f"{tag}h",
                     start_index=10_000_000, taken=taken)
    log(f"half the ceiling: {half_count} reports at {half_rate:.1f}/s, open loop ...")
    half = await send(center, half_plan, rate=half_rate)
    log(f"half the ceiling: answered in {half.ended - half.began:.1f}s; waiting for the offers")
    await settle(events, [a.repair_id for a in half.answers.values()
                          if a.ok and a.request.kind == "fresh"])
    loaded.append((half.began, time.time()))
    await asyncio.sleep(2)

    # 5. lifecycles ----------------------------------------------------------------------
    life_plan = plan(places=places, count=options.lifecycles, seed=options.seed + 2,
                     tag=f"{tag}l", start_index=20_000_000, taken=taken, repeats=False,
                     retry_share=0.0, together_share=0.0)
    life_rework = {r.index for r in life_plan if rng.random() < options.rework_share}
    log(f"lifecycles: {len(life_plan)} repairs reported and driven to the owner's sign-off ...")
    life_tasks: list[asyncio.Task] = []

    def drive_it(answer: Answer) -> None:
        if answer.ok:
            life_tasks.append(asyncio.create_task(drive(
                center, events, answer.repair_id, rework=answer.request.index in life_rework)))

    cpu2 = sampler.cpu()
    life = await send(center, life_plan, rate=0, on_answer=drive_it)
    lives: list[Lifecycle] = list(await asyncio.gather(*life_tasks))
    cpu3 = sampler.cpu()
    loaded.append((life.began, time.time()))
    closed = [x for x in lives if x.outcome == "closed"]
    log(f"lifecycles: {len(closed)}/{len(lives)} closed")

    # 6. deadline timers at ease, then the storm's -------------------------------------------
    quiet_plan = plan(places=places, count=options.quiet_breaches, seed=options.seed + 4,
                      tag=f"{tag}q", start_index=40_000_000, taken=taken, repeats=False,
                      retry_share=0.0, together_share=0.0)
    quiet = await send(center, quiet_plan, rate=0)
    log(f"timers: {len(quiet.answers)} more deadline probes, due in a few seconds, at ease ...")
    quiet_probes = [asyncio.create_task(breach_probe(center, events, a.repair_id, 4.0 + i))
                    for i, a in enumerate(quiet.answers.values()) if a.ok]
    probe_results = [p for p in await asyncio.gather(*probes, *quiet_probes) if p]
    under_load = [p for p in probe_results if any(a <= p["due"] <= b for a, b in loaded)]
    at_ease = [p for p in probe_results if p not in under_load]

    # 7. every answer checked, then the processes at rest ----------------------------------
    log("checking every accepted report's row and workflow ...")
    check = await verify(center, client, {"storm": storm, "easy": easy, "half": half,
                                          "life": life, "quiet": quiet})
    weights = {
        "no-op": await ceilings.history_events(client, starts["sample_ids"]),
        "repair-shaped": await ceilings.history_events(client, shaped["sample_ids"]),
        "report, to its first offer": await ceilings.history_events(client, [
            f"repair-{a.repair_id}" for a in storm.answers.values()
            if a.ok and a.request.kind == "fresh" and a.request.index not in driven_idx
            and a.request.index not in probe_idx][:3]),
        "lifecycle, no rework": await ceilings.history_events(client, [
            f"repair-{x.repair_id}" for x in closed if not x.rework][:3]),
    }
    log("letting the stack come to rest ...")
    await asyncio.sleep(options.rest_seconds)
    rest_after, pss_after, cpu_end = sampler.rss(), sampler.pss(), sampler.cpu()
    kernel = sampler.kernel()

    # the figures ------------------------------------------------------------------------
    accepted = [a for a in storm.answers.values() if a.ok and check["verified"].get(a.repair_id)]
    storm_span = storm.ended - storm.began
    offers = [events.first_offer[a.repair_id][0].timestamp() - a.sent_at
              for a in storm.answers.values()
              if a.ok and a.request.kind == "fresh" and a.repair_id in events.first_offer]
    storm_closed = [x for x in storm_lives if x.outcome == "closed"]
    life_span = report.span([life.began], [x.closed_at for x in closed]) if closed else None
    ours = [n for n in sampler.tracks if kind_of(n) == "ours"]
    life_cpu = sum(cpu3[n] - cpu2[n] for n in ours)
    result["storm"] = {
        "reports": len(storm.answers), "accepted": len(accepted),
        "answers": dict(Counter(str(a.status) for a in storm.answers.values())),
        "duration_s": _r(storm_span),
        "accepted_per_s": _r(report.rate(len(accepted), storm_span)),
        "new_repairs_per_s": _r(report.rate(sum(1 for a in accepted
                                                if a.request.kind == "fresh"), storm_span)),
        "post_ms": report.summary([a.latency for a in storm.answers.values()], scale=1000),
        "offer_s": report.summary(offers, digits=3),
        "offered": len(offers), "emergencies": sum(1 for r in storm_plan if r.emergency),
        "driven": len(storm_lives), "driven_closed": len(storm_closed),
        "driven_outcomes": dict(Counter(x.outcome for x in storm_lives)),
        "driven_refused_actions": sum(x.refused for x in storm_lives),
        "driven_last_refusals": [x.detail for x in storm_lives if x.detail][:5],
        "driven_per_s": _r(report.rate(len(storm_closed), report.span(
            [storm.began], [x.closed_at for x in storm_closed]) if storm_closed else None), 2),
        "event_lag_at_last_answer": lag_at_storm_end,
        "event_lag_at_last_offer": lag_at_offers,
        "cpu_s_ours": _r(sum(cpu1[n] - cpu0[n] for n in ours), 2),
        "cpu_s_all": _r(sum(cpu1[n] - cpu0[n] for n in sampler.tracks if n != "bench"), 2),
        "cpu_ms_per_new_repair_by_process": {
            n: _r((cpu1[n] - cpu0[n]) * 1000 / max(1, len(storm_new)), 1)
            for n in sampler.tracks},
    }
    result["easy_rate"] = {**_open_loop(easy, easy_rate), "storm_through_per_s": _r(through)}
    result["half_ceiling"] = _open_loop(half, half_rate)
    result["lifecycles"] = {
        "count": len(lives), "closed": len(closed),
        "reworks": sum(1 for x in closed if x.rework),
        "outcomes": dict(Counter(x.outcome for x in lives)),
        "refused_actions": sum(x.refused for x in lives),
        "last_refusals": [x.detail for x in lives if x.detail][:5],
        "duration_s": _r(life_span), "per_s": _r(report.rate(len(closed), life_span), 3),
        "actions_per_lifecycle": _r(sum(x.actions for x in closed) / len(closed), 2)
        if closed else None,
        "cpu_s_ours": _r(life_cpu, 2),
        "cpu_s_per_lifecycle": _r(life_cpu / len(closed), 4) if closed else None,
        "cpu_s_per_lifecycle_by_process": {
            n: _r((cpu3[n] - cpu2[n]) / len(closed), 4) for n in sampler.tracks}
        if closed else {},
    }
    result["history_events"] = {k: _r(v) for k, v in weights.items()}
    result["correctness"] = check["summary"]
    result["timers"] = {
        "probes": len(probes) + len(quiet_probes), "breaches_heard": len(probe_results),
        "late_s": report.summary([p["heard"] for p in probe_results], digits=3),
        "noticed_late_s": report.summary([p["noticed"] for p in probe_results], digits=3),
        "under_load_late_s": report.summary([p["heard"] for p in under_load], digits=3),
        "at_ease_late_s": report.summary([p["heard"] for p in at_ease], digits=3),
        "due_as_agreed": sum(1 for p in probe_results if p["due_matches"]),
    }
    peaks, counts = sampler.peaks(), sampler.counts()
    result["processes"] = {
        name: {"kind": kind_of(name), "pid": sampler.tracks[name].pid,
               "processes": counts.get(name), "cpu_s": _r(cpu_end[name], 1),
               "cpu_kernel_s": _r(kernel.get(name), 1),
               "peak_rss_mb": _r(peaks[name] / report.MB),
               "rest_rss_mb": _r(rest_after.get(name, 0) / report.MB),
               "rest_pss_mb": _r(pss_after[name] / report.MB) if name in pss_after else None,
               "start_rss_mb": _r(rest_before[name] / report.MB)
               if name in rest_before else None}
        for name in sampler.tracks}
    result["errors"] = center.errors
    result["ratios"] = {
        "accepted_to_start_ceiling": _r(report.ratio(result["storm"]["accepted_per_s"],
                                                     result["ceilings"]["start_per_s"]), 3),
        "lifecycles_to_shaped_ceiling": _r(report.ratio(result["lifecycles"]["per_s"],
                                                        result["ceilings"]["shaped_per_s"]), 3),
    }
    result["targets"] = report.targets(result)


def _open_loop(sent: Sent, offered_rate: float) -> dict[str, Any]:
    return {
        "rate": _r(offered_rate), "reports": len(sent.answers),
        "answers": dict(Counter(str(a.status) for a in sent.answers.values())),
        "duration_s": _r(sent.ended - sent.began),
        "accepted_per_s": _r(report.rate(sum(1 for a in sent.answers.values() if a.ok),
                                         sent.ended - sent.began)),
        "post_ms": report.summary([a.latency for a in sent.answers.values()], scale=1000),
    }


async def settle(events: Events, repair_ids: list[str], timeout: float = 120) -> bool:
    """Until each of these repairs was offered, handed over or left unassigned: the
    workflows' backlog is worked off."""
    def done(repair_id: str) -> bool:
        kinds = events.kinds_of(repair_id)
        return repair_id in events.first_offer or "delegated" in kinds or "unassigned" in kinds

    return await _until(lambda: all(done(r) for r in repair_ids), timeout)


async def breach_probe(center: CallCenter, events: Events, repair_id: str, delay: float
                       ) -> dict | None:
    """Agree a visit `delay` seconds ahead and never arrive: how late is the breach acted
    on (the workflow's noticed_at, and the `repairs.overdue.v1` event heard)?"""
    offered = await events.wait_for(repair_id, {"offered"}, 120)
    if offered is None:
        return None
    visit = datetime.now(UTC) + timedelta(seconds=delay)
    status, _ = await center.act(repair_id, "reschedule", {
        "visit_at": visit.isoformat(), "reason": "业主约定时间（压测：到场时限探针）",
        "by": "bench"})
    if status != 200:
        return None
    deadline = time.time() + delay + 60
    while time.time() < deadline:
        seen = events.overdue.get((repair_id, "arrive_by"))
        if seen is not None:
            return {"due": seen.due_at.timestamp(),
                    "noticed": (seen.noticed_at - seen.due_at).total_seconds(),
                    "heard": seen.heard_at - seen.due_at.timestamp(),
                    "due_matches": abs(seen.due_at.timestamp() - visit.timestamp()) < 0.01}
        await asyncio.sleep(0.2)
    return None


async def verify(center: CallCenter, client: Client, phases: dict[str, Sent]) -> dict:
    """Each 2xx: its repair's row and workflow. Repeat calls folded into their original,
    retries answered with the same repair, and each original's count of repeat calls."""
    answers = [a for sent in phases.values() for a in sent.answers.values()]
    retries = [pair for sent in phases.values() for pair in sent.retries]
    ids = {a.repair_id for a in answers if a.ok}
    ids |= {again.repair_id for _, again in retries if again.ok}
    rows: dict[str, dict | None] = {}
    flows: dict[str, bool] = {}
    gate = asyncio.Semaphore(16)

    async def look(repair_id: str) -> None:
        status, body = await center.act(repair_id, "", method="GET")
        rows[repair_id] = body if status == 200 else None
        async with gate:
            try:
                await client.get_workflow_handle(f"repair-{repair_id}").describe()
                flows[repair_id] = True
            except RPCError:
                flows[repair_id] = False

    await asyncio.gather(*(look(i) for i in ids))
    verified = {i: rows.get(i) is not None and flows.get(i, False) for i in ids}
    by_index = {a.request.index: a for a in answers}
    ok_reports = [a for a in answers if a.ok] + [again for _, again in retries if again.ok]
    lost = [a for a in ok_reports if not verified.get(a.repair_id)]
    repeats = [a for a in answers if a.request.kind == "repeat"]
    folded = [a for a in repeats if a.status == 200
              and (original := by_index.get(a.request.repeat_of)) is not None
              and original.ok and a.repair_id == original.repair_id == a.duplicate_of]
    fresh = [a for a in answers if a.request.kind == "fresh"]
    fresh_ok = [a for a in fresh if a.status == 201 and a.duplicate_of is None]
    same = [(first, again) for first, again in retries
            if first.ok and again.ok and first.repair_id == again.repair_id
            and first.status == again.status]
    expected_calls = Counter(by_index[a.request.repeat_of].repair_id for a in repeats
                             if a.request.repeat_of in by_index and a.ok)
    counted = sum(1 for repair_id, n in expected_calls.items()
                  if (rows.get(repair_id) or {}).get("repeat_calls") == n)
    return {"verified": verified, "summary": {
        "answered_2xx": len(ok_reports), "repairs": len(ids), "lost": len(lost),
        "lost_ids": [a.repair_id for a in lost][:20],
        "without_row": sum(1 for i in ids if rows.get(i) is None),
        "without_workflow": sum(1 for i in ids if not flows.get(i)),
        "fresh": len(fresh), "fresh_created": len(fresh_ok),
        "repeats": len(repeats), "repeats_folded": len(folded),
        "repeat_counts_right": f"{counted}/{len(expected_calls)}",
        "retries": len(retries), "retries_same": len(same),
        "not_2xx": sum(1 for a in answers if not a.ok),
    }}


async def _until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


def _saved_key(settings: CommonSettings) -> str:
    path = settings.home / "demo-api-key"
    if not path.exists():
        raise SystemExit("no --api-key given and no demo key in "
                         f"{path}: create one with `repairflow apikey create --group HX "
                         "--rate 100000`")
    return path.read_text().strip()


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


RESULTS = Path(__file__).resolve().parent / "results"  # git-ignored


def write(result: dict[str, Any], json_out: Path | None) -> Path:
    if json_out is None:
        RESULTS.mkdir(exist_ok=True)
        json_out = RESULTS / f"storm-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path = json_out
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
