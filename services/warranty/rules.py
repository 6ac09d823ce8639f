"""The statutory minimum warranty periods, as data: one table per jurisdiction.

Contractor layer (施工单位 → 建设单位): 《建设工程质量管理条例》 (State Council Order 279)
Art. 40 and 《房屋建筑工程质量保修办法》 (Ministry Order 80) Art. 7, counted from the day
completion acceptance is passed. Developer layer (开发企业 → 购房人): 建房[1998]102号 Art. 5-6
(the 住宅质量保证书), counted from delivery to the buyer, and never shorter than what
remains of the contractor's period (《商品房销售管理办法》 Order 88 Art. 33).
A project's contract can lengthen any period (see `ContractTerm`); local rules are another
table under their jurisdiction's key.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.warranty.periods import Period, PeriodKind, Season

Y, M = PeriodKind.years, PeriodKind.months
HEAT, COOL = PeriodKind.heating_periods, PeriodKind.cooling_periods
LIFE, AGREED = PeriodKind.service_life, PeriodKind.agreement

ART40 = "《建设工程质量管理条例》第四十条"
DOC102 = "建房[1998]102号《商品住宅实行住宅质量保证书和住宅使用说明书制度的规定》"


@dataclass(frozen=True)
class WarrantyRule:
    """The two minimum periods of one warranty category, with the clause behind each."""

    category: str
    name_en: str
    name_zh: str
    contractor: Period
    contractor_source: str
    developer: Period
    developer_source: str


def _rule(category: str, en: str, zh: str, contractor: Period, c_src: str, developer: Period,
          d_src: str) -> WarrantyRule:
    return WarrantyRule(category, en, zh, contractor, c_src, developer, d_src)


CN_RULES: dict[str, WarrantyRule] = {r.category: r for r in (
    _rule("structure", "foundations and main structure", "地基基础和主体结构",
          Period(LIFE), f"{ART40}第(一)项：设计文件规定的合理使用年限",
          Period(LIFE), f"{DOC102}第五条：合理使用寿命年限内"),
    _rule("roof_leakage", "roof leakage", "屋面防水",
          Period(Y, 5), f"{ART40}第(二)项：屋面防水工程5年",
          Period(Y, 3), f"{DOC102}第六条：屋面防水3年"),
    _rule("exterior_wall_leakage", "exterior-wall leakage", "外墙面渗漏",
          Period(Y, 5), f"{ART40}第(二)项：外墙面的防渗漏5年",
          Period(Y, 1), f"{DOC102}第六条：墙面渗漏1年"),
    _rule("wet_room_leakage", "kitchen and bathroom floor leakage", "厨房和卫生间地面渗漏",
          Period(Y, 5), f"{ART40}第(二)项：有防水要求的卫生间、房间的防渗漏5年",
          Period(Y, 1), f"{DOC102}第六条：厨房和卫生间地面渗漏1年"),
    _rule("basement_leakage", "basement leakage", "地下室渗漏",
          Period(Y, 5), f"{ART40}第(二)项：有防水要求的房间的防渗漏5年",
          Period(Y, 1), f"{DOC102}第六条：地下室渗漏1年"),
    _rule("pipe_leakage", "pipe leakage", "管道渗漏",
          Period(Y, 2), f"{ART40}第(四)项：给排水管道2年",
          Period(Y, 1), f"{DOC102}第六条：管道渗漏1年"),
    _rule("plaster_falling", "plaster falling from walls or ceilings", "墙面、顶棚抹灰层脱落",
          Period(Y, 2), f"{ART40}第(四)项：装修工程2年",
          Period(Y, 1), f"{DOC102}第六条：墙面、顶棚抹灰层脱落1年"),
    _rule("floor_hollowing", "floor hollowing, cracking, sanding", "地面空鼓开裂、大面积起砂",
          Period(Y, 2), f"{ART40}第(四)项：装修工程2年",
          Period(Y, 1), f"{DOC102}第六条：地面空鼓开裂、大面积起砂1年"),
    _rule("doors_windows", "doors and windows warping, hardware damage", "门窗翘裂、五金件损坏",
          Period(Y, 2), f"{ART40}第(四)项：装修工程2年",
          Period(Y, 1), f"{DOC102}第六条：门窗翘裂、五金件损坏1年"),
    _rule("pipe_blockage", "pipe blockage", "管道堵塞",
          Period(Y, 2), f"{ART40}第(四)项：给排水管道2年",
          Period(M, 2), f"{DOC102}第六条：管道堵塞2个月"),
    _rule("sanitary_ware", "sanitary ware", "卫生洁具",
          Period(Y, 2), f"{ART40}第(四)项：设备安装工程2年",
          Period(Y, 1), f"{DOC102}第六条：卫生洁具1年"),
    _rule("lamps_switches", "lamps, electrical switches and sockets", "灯具、电器开关",
          Period(Y, 2), f"{ART40}第(四)项：电气管线、设备安装工程2年",
          Period(M, 6), f"{DOC102}第六条：灯具、电器开关6个月"),
    _rule("electrical_wiring", "electrical wiring", "电气管线",
          Period(Y, 2), f"{ART40}第(四)项：电气管线2年",
          Period(AGREED), f"{DOC102}第六条：其他部位、部件由开发企业与用户约定"),
    _rule("heating_system", "heating system", "供热系统",
          Period(HEAT, 2), f"{ART40}第(三)项：供热系统2个采暖期",
          Period(HEAT, 1), f"{DOC102}第六条：供热系统和设备1个采暖期"),
    _rule("cooling_system", "cooling system", "供冷系统",
          Period(COOL, 2), f"{ART40}第(三)项：供冷系统2个供冷期",
          Period(COOL, 1), f"{DOC102}第六条：供冷系统和设备1个供冷期"),
    _rule("external_insulation", "external insulation", "外墙保温工程",
          Period(Y, 5), "《民用建筑节能条例》第二十三条：保温工程最低保修期限5年",
          Period(AGREED), f"{DOC102}第六条：其他部位、部件由开发企业与用户约定"),
    _rule("elevators", "elevators", "电梯",
          Period(Y, 2), f"{ART40}第(四)项：设备安装工程2年",
          Period(AGREED), f"{DOC102}第六条：其他部位、部件由开发企业与用户约定"),
    _rule("fire_systems", "fire systems", "消防系统",
          Period(Y, 2), f"{ART40}第(四)项：设备安装工程2年",
          Period(AGREED), f"{DOC102}第六条：其他部位、部件由开发企业与用户约定"),
    _rule("low_voltage_systems", "low-voltage and security systems", "弱电及安防系统",
          Period(Y, 2), f"{ART40}第(四)项：设备安装工程2年",
          Period(AGREED), f"{DOC102}第六条：其他部位、部件由开发企业与用户约定"),
    _rule("other", "landscaping, roads and other works", "园林绿化、道路及其他",
          Period(AGREED), f"{ART40}：其他项目的保修期限由发包方与承包方约定",
          Period(AGREED), f"{DOC102}第六条：其他部位、部件由开发企业与用户约定"),
)}

RULE_TABLES: dict[str, dict[str, WarrantyRule]] = {"CN": CN_RULES}

# Legal heating seasons set by city governments (not the dates a given year opened).
HEATING_SEASONS: dict[str, Season] = {
    "beijing": Season((11, 15), (3, 15)),
    "harbin": Season((10, 20), (4, 20)),
    "urumqi": Season((10, 10), (4, 10)),
    "shenyang": Season((11, 1), (3, 31)),
}
CITY_ALIASES = {"北京": "beijing", "哈尔滨": "harbin", "乌鲁木齐": "urumqi", "沈阳": "shenyang"}


def default_heating_season(city: str) -> Season | None:
    key = city.strip().lower().removesuffix("市")
    return HEATING_SEASONS.get(CITY_ALIASES.get(key, key))


@dataclass(frozen=True)
class ContractTerm:
    """A contract clause that lengthens one layer's period of one warranty category."""

    warranty_category: str
    layer: str  # "contractor" or "developer"
    period: Period
    clause: str
