"""The one question the bot asks about a firm fact, with its reply buttons.

Kept in code, not as domain responses: Rasa interpolates ``{...}`` in responses with slot values,
and the JSON of a button payload ('/provide_firm_info{"zjtx_level": "市级"}') is not a slot name.
"""

from __future__ import annotations

import json
from typing import Any

YES_NO = [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}]


def _entity_buttons(entity: str, choices: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {"title": title, "payload": "/provide_firm_info" + json.dumps({entity: value}, ensure_ascii=False)}
        for title, value in choices
    ]


QUESTIONS: dict[str, dict[str, Any]] = {
    "zjtx_level": {
        "text": "贵企业是否已认定为专精特新企业？是哪一级？",
        "buttons": _entity_buttons(
            "zjtx_level",
            [
                ("市级专精特新", "市级"),
                ("省级专精特新", "省级"),
                ("国家级专精特新“小巨人”", "国家级小巨人"),
                ("单项冠军培育企业", "单项冠军培育"),
                ("还不是", "无"),
            ],
        ),
    },
    "growth_pct": {
        "text": "贵企业较上一年增长了多少？请直接说增长的百分比或几成；不清楚可以说“不清楚”。",
        "buttons": [],
    },
    "shareholding_reform": {"text": "贵企业是否正在实施或计划实施股份制改造？", "buttons": YES_NO},
    "industry": {
        "text": "贵企业属于哪个产业？",
        "buttons": _entity_buttons(
            "industry",
            [
                ("五金", "五金"),
                ("家电", "家电"),
                ("灯具灯饰", "灯饰"),
                ("板式家具", "板式家具"),
                ("小家电", "小家电"),
                ("厨卫", "厨卫"),
                ("其他", "其他"),
            ],
        ),
    },
    "digital_project": {"text": "贵企业是否正在实施数字化智能化转型（改造）项目？", "buttons": YES_NO},
    "manufacturing": {"text": "贵企业是制造业企业吗？", "buttons": YES_NO},
    "apprenticeship": {"text": "贵企业是否开展（或准备开展）企业新型学徒制培训？", "buttons": YES_NO},
    "skill_certification": {"text": "贵企业是否开展（或准备开展）职业技能等级认定？", "buttons": YES_NO},
}
