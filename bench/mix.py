"""What a call center sends after a typhoon: reports of the demo projects' places and the
defect categories, about 10 % repeat calls about a repair still open, about 5 % emergencies,
and some requests sent twice with the same Idempotency-Key (a retry after a timeout).

Pure and seeded: the same arguments give the same plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from services.common.registry_contracts import ProjectIn
from services.warranty.categories import STARTER_TAXONOMY

# After a typhoon: leaks and blocked drains first, then windows, power and facades.
STORM_WEIGHTS: dict[str, float] = {
    "LK-ROOF": 10, "LK-EXTW": 9, "LK-WIN": 10, "LK-WET": 4, "LK-BSMT": 6, "LK-PIPE": 4,
    "PIPE-BLK": 6, "SAN-WARE": 1, "CRK-WALL": 2, "PLS-FALL": 4, "FLR-HOL": 1, "TILE-HOL": 1,
    "DW-DEF": 7, "EL-FIX": 3, "EL-WIRE": 2, "HVAC-HEAT": 1, "HVAC-COOL": 1, "INS-EXT": 4,
    "FIRE": 1, "SEC-LV": 2, "LAND": 5, "STR-CRK": 1,
    # Emergencies by themselves (burst pipe, power loss, lift): with the calls that say so,
    # about 5 % of the reports.
    "PIPE-BURST": 1.2, "EL-OUTAGE": 1.2, "ELEV": 0.6,
}
ALWAYS_EMERGENCY = frozenset(c.code for c in STARTER_TAXONOMY if c.always_emergency)
CHANNELS = ("hotline", "hotline", "hotline", "wechat", "app")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛")
WHAT = {"LK": "台风后渗水", "PIPE": "管道问题", "EL": "电路故障", "DW": "门窗被风刮坏",
        "INS": "外墙保温层脱落", "LAND": "小区树木倒伏", "ELEV": "电梯停运"}


@dataclass(frozen=True)
class Place:
    project: str
    building: str
    unit: str | None = None
    common_area: str | None = None


@dataclass
class Request:
    """One POST /v1/repairs of the plan."""

    index: int
    body: dict[str, Any]
    idempotency_key: str
    kind: str  # "fresh" (a new repair expected, 201) or "repeat" (folds into `repeat_of`, 200)
    repeat_of: int | None = None  # the plan index of the fresh report it repeats
    retry: str | None = None  # "after" (sent again once answered) or "together" (twice at once)
    emergency: bool = False
    keep_open: bool = False  # a repeat will come for it: it must not be driven to its end
    answers: list[tuple[int, str | None]] = field(default_factory=list)


def places_of(projects: list[ProjectIn]) -> list[Place]:
    return [p for project in projects for building in project.buildings
            for p in ([Place(project.code, building.code, unit=u.code) for u in building.units]
                      + [Place(project.code, building.code, common_area=a.code)
                         for a in building.common_areas])]


def with_storm_units(project: ProjectIn, per_building: int, tag: str) -> ProjectIn:
    """The project with `per_building` more units in each building (a real group has
    thousands of homes; the demo has a handful), delivered like the building's first unit.
    `tag` keeps each run's units apart, so that no repair of an earlier run absorbs them."""
    document = project.model_copy(deep=True)
    for building in document.buildings:
        model = building.units[0] if building.units else None
        known = {u.code for u in building.units}
        for n in range(1, per_building + 1):
            code = f"{building.code}-{tag}{n:03d}"
            if code in known:
                continue
            building.units.append(type(model)(  # UnitIn
                code=code, delivered_on=model.delivered_on, owner_name=model.owner_name,
                owner_phone=model.owner_phone) if model else _unit(code))
    return document


def _unit(code: str):
    from services.common.registry_contracts import UnitIn
    return UnitIn(code=code)


def reporter(rng: random.Random) -> dict[str, str]:
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN)),
            "phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"}


def _description(category: str, place: Place) -> str:
    what = next((v for k, v in WHAT.items() if category.startswith(k)), "台风后报修")
    where = place.unit or place.common_area
    return f"{where} {what}（{category}）"


def plan(*, places: list[Place], count: int, seed: int, repeat_share: float = 0.10,
         emergency_share: float = 0.05, retry_share: float = 0.05,
         together_share: float = 0.01, start_index: int = 0, tag: str = "",
         repeats: bool = True, taken: set[tuple[Place, str]] | None = None) -> list[Request]:
    """`count` reports. Fresh reports take a place and category no open repair has
    (`taken` is updated); a repeat names an earlier fresh report of the plan, sent at least
    a few requests later. Emergencies: the categories that always are, and calls that say so
    to make up the share."""
    rng = random.Random(seed)
    taken = taken if taken is not None else set()
    codes = list(STORM_WEIGHTS)
    weights = [STORM_WEIGHTS[c] for c in codes]
    natural = sum(STORM_WEIGHTS[c] for c in ALWAYS_EMERGENCY) / sum(weights)
    said_share = max(0.0, (emergency_share - natural) / max(1e-9, 1 - natural))
    requests: list[Request] = []
    fresh: list[int] = []
    for i in range(count):
        index = start_index + i
        key = f"bench-{tag}-{seed}-{index}"
        if repeats and len(fresh) > 20 and rng.random() < repeat_share:
            original = requests[rng.choice(fresh[:-10]) - start_index]
            original.keep_open = True
            body = dict(original.body, reporter=reporter(rng), channel=rng.choice(CHANNELS),
                        description=original.body["description"] + "（邻居再次来电）")
            requests.append(Request(index, body, key, "repeat", repeat_of=original.index,
                                    emergency=original.emergency))
            continue
        for _ in range(10_000):
            place, category = rng.choice(places), rng.choices(codes, weights)[0]
            if (place, category) not in taken:
                break
        else:
            raise ValueError("the plan needs more places than the registry holds")
        taken.add((place, category))
        said = category not in ALWAYS_EMERGENCY and rng.random() < said_share
        body: dict[str, Any] = {
            "project": place.project, "building": place.building, "channel": rng.choice(CHANNELS),
            "category": category, "description": _description(category, place),
            "reporter": reporter(rng),
        }
        body["unit" if place.unit else "common_area"] = place.unit or place.common_area
        if said:
            body["emergency"] = True
        requests.append(Request(index, body, key, "fresh",
                                emergency=said or category in ALWAYS_EMERGENCY))
        fresh.append(index)
    for request in requests:
        roll = rng.random()
        if roll < together_share:
            request.retry = "together"
        elif roll < retry_share:
            request.retry = "after"
    return requests
