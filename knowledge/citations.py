"""Citations: each record cited by its own source (答复函, or a later notice), section, date, departments.

Shared by the action server's replies and the console's 快捷回复 (``gateway.routes.knowledge``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from knowledge.records import DEFAULT_SOURCE, Source
from knowledge.search import Hit, default_searcher

LETTER = "答复函"  # 中工信函〔2022〕38号, cited by its short name in every reply
LETTER_DATE = "2022年6月8日"


def chinese_date(iso: str) -> str:
    """'2026-03-01' → '2026年3月1日' (unchanged when it is not an ISO date)."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.year}年{day.month}月{day.day}日"


def source_of(rec: dict[str, Any]) -> Source | None:
    """The document a record quotes (the 2022 letter unless an editor's record names another)."""
    return default_searcher().sources.get(rec.get("source_id") or DEFAULT_SOURCE)


def source_name(rec: dict[str, Any]) -> str:
    """How replies name the record's source: 答复函, or the 文号/title of a later notice."""
    src = source_of(rec)
    return src.citation_name if src else LETTER


def citation(section: str, departments: list[str] | tuple[str, ...], src: Source | None = None) -> str:
    """'（依据：答复函 三（二），2022年6月8日；负责部门：市工业和信息化局）', naming the record's own source."""
    deps = "、".join(departments)
    name, when = (src.citation_name, chinese_date(src.date)) if src else (LETTER, LETTER_DATE)
    return (
        f"（依据：{name} {section}"
        + (f"，{when}" if when else "")
        + (f"；负责部门：{deps}" if deps else "")
        + "）"
    )


def record_citation(rec: dict[str, Any] | Hit) -> str:
    """The citation line of one record, with its own source's name and date."""
    if isinstance(rec, Hit):
        rec = default_searcher().get(rec.policy_id) or {
            "section": rec.section,
            "departments": rec.departments,
        }
    return citation(rec["section"], rec.get("departments") or [], source_of(rec))
