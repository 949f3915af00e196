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


# Intents whose messages describe the owner's own firm. A policy question that names a level or a
# growth rate ("省级专精特新有什么补贴") says nothing about the asker.
STATEMENT_INTENTS = ("provide_firm_info", "ask_eligibility", "match_policies", "affirm", "deny", "nlu_fallback")


def latest_facts(tracker: Tracker) -> dict[str, Any]:
    """Facts in the latest user message, including entities sent by a button payload."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    if intent not in STATEMENT_INTENTS and not tracker.get_slot("requested_slot"):
        return {}
    facts = extract_facts(message.get("text") or "", requested=tracker.get_slot("requested_slot"), intent=intent)
    values = dict(facts.values)
    # Entities matter for button payloads ('/provide_firm_info{"zjtx_level": "省级"}'); DIET's own
    # guesses are ignored unless they are one of the canonical values.
    allowed = {"zjtx_level": set(ZJTX_LEVELS), "industry": {*INDUSTRY_WORDS.values(), "其他"}}
    for entity in message.get("entities") or []:
        name, value = entity.get("entity"), entity.get("value")
        if name in allowed and value in allowed[name]:
            values.setdefault(name, value)
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
