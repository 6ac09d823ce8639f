"""The starter defect taxonomy (缺陷分类): stable codes used over the API, names for people.

Each code maps to the trade (工种) that repairs it and to a warranty category of the rules;
some categories are emergencies by themselves (a burst pipe, a power loss, a lift fault).
Kept as data so a group's own categories can join later without new code paths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefectCategory:
    code: str
    name_zh: str
    name_en: str
    trade: str
    warranty_category: str
    always_emergency: bool = False


STARTER_TAXONOMY: tuple[DefectCategory, ...] = (
    DefectCategory("STR-CRK", "结构裂缝/沉降", "structural crack or settlement", "civil", "structure"),
    DefectCategory("LK-ROOF", "屋面渗漏", "roof leakage", "waterproofing", "roof_leakage"),
    DefectCategory("LK-EXTW", "外墙渗漏", "exterior-wall leakage", "waterproofing",
                   "exterior_wall_leakage"),
    DefectCategory("LK-WIN", "外窗边渗漏", "leakage around windows", "doors_windows",
                   "exterior_wall_leakage"),
    DefectCategory("LK-WET", "厨卫地面渗漏", "kitchen or bathroom floor leakage", "waterproofing",
                   "wet_room_leakage"),
    DefectCategory("LK-BSMT", "地下室渗漏", "basement leakage", "waterproofing",
                   "basement_leakage"),
    DefectCategory("LK-PIPE", "管道渗漏", "pipe leakage", "plumbing", "pipe_leakage"),
    DefectCategory("PIPE-BURST", "水管爆裂", "burst pipe", "plumbing", "pipe_leakage",
                   always_emergency=True),
    DefectCategory("PIPE-BLK", "管道堵塞", "pipe blockage", "plumbing", "pipe_blockage"),
    DefectCategory("SAN-WARE", "卫生洁具", "sanitary ware", "plumbing", "sanitary_ware"),
    DefectCategory("CRK-WALL", "墙面非结构裂缝", "non-structural wall crack", "decoration",
                   "plaster_falling"),
    DefectCategory("PLS-FALL", "墙/顶抹灰脱落", "plaster falling from wall or ceiling",
                   "decoration", "plaster_falling"),
    DefectCategory("FLR-HOL", "地面空鼓/开裂/起砂", "floor hollowing, cracking, sanding",
                   "decoration", "floor_hollowing"),
    DefectCategory("TILE-HOL", "墙地砖空鼓", "hollow tiles", "decoration", "floor_hollowing"),
    DefectCategory("DW-DEF", "门窗翘裂/五金损坏", "door or window warping, hardware",
                   "doors_windows", "doors_windows"),
    DefectCategory("EL-FIX", "灯具/开关插座", "lamps, switches, sockets", "electrical",
                   "lamps_switches"),
    DefectCategory("EL-WIRE", "电气线路", "electrical wiring", "electrical", "electrical_wiring"),
    DefectCategory("EL-OUTAGE", "户内停电", "power loss in the unit", "electrical",
                   "electrical_wiring", always_emergency=True),
    DefectCategory("HVAC-HEAT", "采暖系统", "heating system", "hvac", "heating_system"),
    DefectCategory("HVAC-COOL", "供冷/空调系统", "cooling system", "hvac", "cooling_system"),
    DefectCategory("INS-EXT", "外墙保温开裂/脱落", "external insulation cracking or falling",
                   "facade", "external_insulation"),
    DefectCategory("ELEV", "电梯故障", "elevator fault", "elevator", "elevators",
                   always_emergency=True),
    DefectCategory("FIRE", "消防系统", "fire systems", "fire", "fire_systems"),
    DefectCategory("SEC-LV", "弱电/安防", "low-voltage and security systems", "low_voltage",
                   "low_voltage_systems"),
    DefectCategory("LAND", "园林绿化/道路", "landscaping and roads", "landscaping", "other"),
)

BY_CODE: dict[str, DefectCategory] = {c.code: c for c in STARTER_TAXONOMY}
