"""The firm profile as the actions see it: fact slots of the tracker."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from knowledge.facts import INDUSTRY_WORDS, ZJTX_LEVELS, extract_facts
from knowledge.rules import FACT_LABELS, describe

FACT_SLOTS = tuple(FACT_LABELS)
IDENTITY_SLOTS = ("firm_name", "uscc", "revenue_wan")


def profile(tracker: Tracker) -> dict[str, Any]:
    """Every fact slot that is set."""
    return {name: tracker.get_slot(name) for name in FACT_SLOTS if tracker.get_slot(name) is not None}


def turn_facts(tracker: Tracker) -> dict[str, Any]:
    """Facts the latest message gives: the NLU's fact entities, and a bare answer to the fact just asked.

    The fact entities (``bot.facts_extractor``) have already filled their slots; a bare "是", "35%" or
    "不清楚" answers the question the bot asked last (slot ``asked_fact``), which only the dialogue knows.
    """
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    allowed = {"zjtx_level": set(ZJTX_LEVELS), "industry": {*INDUSTRY_WORDS.values(), "其他"}}
    values: dict[str, Any] = {}
    for entity in message.get("entities") or []:
        name, value = entity.get("entity"), entity.get("value")
        if name in (*FACT_SLOTS, *IDENTITY_SLOTS) and (name not in allowed or value in allowed[name]):
            values.setdefault(name, value)
    asked = tracker.get_slot("asked_fact")
    if asked and asked not in values:
        answered = extract_facts(message.get("text") or "", requested=asked, intent=intent).values
        if asked in answered:
            values[asked] = answered[asked]
    return values


def summary(values: dict[str, Any]) -> str:
    """'专精特新认定级别：省级；较上一年增长率：35' for confirmations and verdict headers."""
    parts = []
    for name in FACT_SLOTS:
        if name in values and values[name] is not None:
            value = describe(values[name])
            if name == "growth_pct" and values[name] != "unknown":
                value += "%"
            parts.append(f"{FACT_LABELS[name]}：{'不清楚' if value == 'unknown' else value}")
    return "；".join(parts)
