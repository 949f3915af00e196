"""Hand the conversation to a staffed liaison: build the packet, post it, pause the bot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.gateway_client import GatewayUnavailable, HandoffClient
from actions.profile import FACT_SLOTS, IDENTITY_SLOTS
from actions.replies import LETTER_CONTACT
from huiqitong.handoff import Citation, HandoffPacket
from knowledge.search import default_searcher

LAST_TURNS = 12


def last_turns(tracker: Tracker, limit: int = LAST_TURNS) -> list[dict[str, Any]]:
    """The latest user and bot messages, oldest first."""
    turns = []
    for event in tracker.events:
        kind = event.get("event")
        if kind in ("user", "bot") and event.get("text"):
            turns.append({"role": kind, "text": event["text"], "timestamp": event.get("timestamp")})
    return turns[-limit:]


def open_question(tracker: Tracker) -> str:
    """The owner's question a person should answer: the last substantive user message."""
    question = tracker.get_slot("open_question")
    if question:
        return str(question)
    for event in reversed(tracker.events):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if event.get("event") == "user" and intent not in ("request_human", "affirm", "deny", "greet", None):
            return str(event.get("text") or "")
    return ""


def build_packet(tracker: Tracker, reason: str) -> HandoffPacket:
    """Everything a liaison needs to take over without asking again."""
    searcher = default_searcher()
    citations = []
    for pid in tracker.get_slot("last_sources") or []:
        rec = searcher.get(pid)
        if rec:
            citations.append(
                Citation(
                    policy_id=pid, title=rec["title"], section=rec["section"], departments=rec["departments"]
                )
            )
    message = tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    intents = [
        ((e.get("parse_data") or {}).get("intent") or {}).get("name")
        for e in tracker.events
        if e.get("event") == "user"
    ]
    topic_intent = next(
        (i for i in reversed(intents) if i not in ("request_human", "affirm", "deny", None)), None
    )
    return HandoffPacket(
        sender_id=tracker.sender_id,
        channel=metadata.get("channel") or tracker.get_latest_input_channel() or "rest",
        firm={"name": tracker.get_slot("firm_name"), "uscc": tracker.get_slot("uscc")},
        intent=topic_intent,
        reason=reason,
        slots={
            k: tracker.get_slot(k) for k in (*FACT_SLOTS, *IDENTITY_SLOTS) if tracker.get_slot(k) is not None
        },
        question=open_question(tracker),
        citations=citations,
        last_turns=last_turns(tracker),
    )


async def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, client: HandoffClient | None = None
) -> list[EventType]:
    """Post the packet; on success tell the owner who takes over and pause the bot."""
    client = client or HandoffClient()
    packet = build_packet(tracker, reason)
    try:
        answer = await client.hand_off(packet.payload())
    except GatewayUnavailable:
        dispatcher.utter_message(
            text="抱歉，转人工服务暂时连接不上。您的问题和对话记录已保存，服务恢复后会自动转交工作人员处理。"
            f"着急的话也可以联系答复函所列联系人：{LETTER_CONTACT}。"
        )
        return [SlotSet("handoff_offered", False)]
    liaison = answer.get("liaison") or "工作人员"
    due = answer.get("due_text") or "工作时间内尽快"
    dispatcher.utter_message(
        text=f"已为您转接{liaison}，工作人员将在{due}回复。在此期间您发的消息会直接转给工作人员，机器人暂停作答。",
        json_message={"handoff": {k: answer.get(k) for k in ("escalation_id", "status", "liaison")}},
    )
    return [SlotSet("handoff_offered", False), ConversationPaused()]
