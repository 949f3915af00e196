"""Reply formatting shared by the actions: citations with the letter's date, sources, the letter's name."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from knowledge.citations import (
    LETTER,
    LETTER_DATE,
    chinese_date,
    source_name,
    source_of,
)
from knowledge.search import Hit, default_searcher

LETTER_FULL = "中工信函〔2022〕38号答复函"
LETTER_CONTACT = "郝毫保 88308273"
DEFAULT_DEPARTMENT = "市工业和信息化局"
OFFER_BUTTONS = [
    {"title": "转人工", "payload": "/request_human"},
    {"title": "不用了", "payload": "/deny"},
]
# A record that reports a period (2020-2022 目录) or a plan (拟出台, 计划) may have changed since.
_DATED = re.compile(r"\d{4}\s*-\s*\d{4}|拟|计划|今年|目前|截至")


def time_note(rec: dict[str, Any], today: date | None = None) -> str:
    """What the owner must know about time: a validity period that ended or has not begun, or, for a
    record that carries a period or a plan, that the source describes its own time."""
    deps = "、".join(rec.get("departments") or [DEFAULT_DEPARTMENT])
    today = today or date.today()
    until, since = rec.get("valid_until") or "", rec.get("valid_from") or ""
    if until and until < today.isoformat():
        return f"该措施的有效期至{chinese_date(until)}，现在可能已经失效，现行规定请向{deps}核实。"
    if since and since > today.isoformat():
        return f"该措施自{chinese_date(since)}起施行，尚未开始，具体请向{deps}核实。"
    if rec.get("status") == "planned" or _DATED.search(rec["quote"]):
        src = source_of(rec)
        name, when = (src.citation_name, chinese_date(src.date)) if src else (LETTER, LETTER_DATE)
        return f"{name}写于{when}，所述为当时的情况或计划，现行规定请向{deps}核实。"
    return ""


def source(hit: Hit | dict[str, Any]) -> dict[str, str]:
    """The structured source of a reply, as channels show it."""
    if isinstance(hit, Hit):
        rec = default_searcher().get(hit.policy_id) or {}
        return {
            "policy_id": hit.policy_id,
            "title": hit.title,
            "section": hit.section,
            "cited_as": source_name(rec),
        }
    return {
        "policy_id": hit["id"],
        "title": hit["title"],
        "section": hit["section"],
        "cited_as": source_name(hit),
    }


def sources_payload(hits: list[Any]) -> dict[str, Any]:
    """The ``custom`` part of a bot message: its sources."""
    return {"sources": [source(h) for h in hits]}
