"""Reply formatting shared by the actions: citations with the letter's date, sources, the letter's name."""

from __future__ import annotations

import re
from typing import Any

from knowledge.search import Hit

LETTER = "答复函"  # 中工信函〔2022〕38号, cited by its short name in every reply
LETTER_FULL = "中工信函〔2022〕38号答复函"
LETTER_DATE = "2022年6月8日"
LETTER_CONTACT = "郝毫保 88308273"
DEFAULT_DEPARTMENT = "市工业和信息化局"
OFFER_BUTTONS = [
    {"title": "转人工", "payload": "/request_human"},
    {"title": "不用了", "payload": "/deny"},
]
# A record that reports a period (2020-2022 目录) or a plan (拟出台, 计划) may have changed since.
_DATED = re.compile(r"\d{4}\s*-\s*\d{4}|拟|计划|今年|目前|截至")


def citation(section: str, departments: list[str] | tuple[str, ...]) -> str:
    """'（依据：答复函 三（二），2022年6月8日；负责部门：市工业和信息化局）'."""
    deps = "、".join(departments)
    return f"（依据：{LETTER} {section}，{LETTER_DATE}" + (f"；负责部门：{deps}" if deps else "") + "）"


def record_citation(rec: dict[str, Any] | Hit) -> str:
    """The citation line of one record."""
    if isinstance(rec, Hit):
        return citation(rec.section, rec.departments)
    return citation(rec["section"], rec.get("departments") or [])


def time_note(rec: dict[str, Any]) -> str:
    """For a record that carries a period or a plan: check the current rules with the department."""
    if rec.get("status") == "planned" or _DATED.search(rec["quote"]):
        deps = "、".join(rec.get("departments") or [DEFAULT_DEPARTMENT])
        return f"答复函写于{LETTER_DATE}，所述为当时的情况或计划，现行规定请向{deps}核实。"
    return ""


def source(hit: Hit | dict[str, Any]) -> dict[str, str]:
    """The structured source of a reply, as channels show it."""
    if isinstance(hit, Hit):
        return {"policy_id": hit.policy_id, "title": hit.title, "section": hit.section}
    return {"policy_id": hit["id"], "title": hit["title"], "section": hit["section"]}


def sources_payload(hits: list[Any]) -> dict[str, Any]:
    """The ``custom`` part of a bot message: its sources."""
    return {"sources": [source(h) for h in hits]}
