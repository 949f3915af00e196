"""Actions that take in firm facts: the slot-filling extractor and the confirmation reply."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.profile import IDENTITY_SLOTS, latest_facts, summary
from knowledge.facts import extract_facts


class ActionExtractFacts(Action):
    """Fill the fact slots from every user message (custom slot mapping of each fact slot)."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_extract_facts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """SlotSet for each fact the latest message states."""
        return [SlotSet(name, value) for name, value in latest_facts(tracker).items()]


class ActionStoreFirmInfo(Action):
    """Confirm the facts an owner stated outside a form, and check a 统一社会信用代码."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_store_firm_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Reply with what was recorded, or why a credit code is wrong."""
        text = (tracker.latest_message or {}).get("text") or ""
        facts = extract_facts(text)
        if facts.uscc_error:
            dispatcher.utter_message(text=facts.uscc_error)
            return [SlotSet("uscc", None)]
        values = latest_facts(tracker)
        parts = []
        if values.get("firm_name"):
            parts.append(f"企业名称：{values['firm_name']}")
        if values.get("uscc"):
            parts.append(f"统一社会信用代码：{values['uscc']}（校验通过）")
        if values.get("revenue_wan") is not None:
            parts.append(f"营业收入：约{values['revenue_wan']:g}万元")
        stated = summary(values)
        if stated:
            parts.append(stated)
        if not parts:
            dispatcher.utter_message(
                text="好的。想知道企业能享受哪些政策，可以告诉我：是否专精特新及级别、较上一年增长率、"
                "所属产业、是否实施股份制改造或数字化改造等。"
            )
            return []
        dispatcher.utter_message(
            text="已记录：" + "；".join(parts) + "。\n可以问我“我们能享受哪些政策”，我会按答复函逐条判断。",
            buttons=[{"title": "我们能享受哪些政策？", "payload": "/match_policies"}],
        )
        return [SlotSet(k, values[k]) for k in IDENTITY_SLOTS if k in values]
