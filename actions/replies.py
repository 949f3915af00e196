"""Reply formatting shared by the actions: citations, sources, the letter's name."""

from __future__ import annotations

from typing import Any

from knowledge.search import Hit

LETTER = "答复函"  # 中工信函〔2022〕38号, cited by its short name in every reply
LETTER_FULL = "中工信函〔2022〕38号答复函"
LETTER_CONTACT = "郝毫保 88308273"
OFFER_BUTTONS = [
    {"title": "转人工", "payload": "/request_human"},
    {"title": "不用了", "payload": "/deny"},
]


def citation(section: str, departments: list[str] | tuple[str, ...]) -> str:
    """'（依据：答复函 三（二）；负责部门：市工业和信息化局）'."""
    deps = "、".join(departments)
    return f"（依据：{LETTER} {section}" + (f"；负责部门：{deps}" if deps else "") + "）"


def source(hit: Hit | dict[str, Any]) -> dict[str, str]:
    """The structured source of a reply, as channels show it."""
    if isinstance(hit, Hit):
        return {"policy_id": hit.policy_id, "title": hit.title, "section": hit.section}
    return {"policy_id": hit["id"], "title": hit["title"], "section": hit["section"]}


def sources_payload(hits: list[Any]) -> dict[str, Any]:
    """The ``custom`` part of a bot message: its sources."""
    return {"sources": [source(h) for h in hits]}
