"""A conversation that never idles (a WeCom group) is rolled over into a new session every
``MAX_SESSION_EVENTS`` events: the firm's facts and a question the bot just asked survive the
rollover, and the answers are the same as in a short conversation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bench.stack import Stack
from bot.tracker_store import MAX_SESSION_EVENTS

FACTS = "我们是省级专精特新，去年增长了35%"
FILLER = "谢谢"


def say(stack: Stack, sender: str, text: str) -> str:
    """One turn over Rasa's REST channel; the bot's text."""
    resp = httpx.post(
        f"{stack.rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    resp.raise_for_status()
    return "\n".join(m.get("text", "") for m in resp.json())


def session(stack: Stack, sender: str) -> list[dict[str, Any]]:
    """The events Rasa keeps for the conversation: its current session."""
    resp = httpx.get(
        f"{stack.rasa}/conversations/{sender}/tracker", params={"token": stack.env["RASA_TOKEN"]}, timeout=30
    )
    resp.raise_for_status()
    return list(resp.json()["events"])


def fill_until(stack: Stack, sender: str, limit: int) -> int:
    """Say thanks while the session holds at most ``limit`` events; its length then."""
    for _ in range(MAX_SESSION_EVENTS):
        length = len(session(stack, sender))
        if length > limit:
            return length
        say(stack, sender, FILLER)
    raise AssertionError("the session never grew")


def test_facts_survive_a_rollover_and_the_answer_is_the_same(stack: Stack) -> None:
    question = "能申请增长补贴吗"
    short = f"short-{uuid.uuid4().hex}"
    for text in (FACTS, FILLER):
        say(stack, short, text)
    expected = say(stack, short, question)
    assert "✅" in expected
    assert "专精特新企业增长补贴" in expected

    long = f"long-{uuid.uuid4().hex}"
    say(stack, long, FACTS)
    before = fill_until(stack, long, MAX_SESSION_EVENTS)
    say(stack, long, FILLER)  # the first message after the limit starts a new session
    after = session(stack, long)
    assert len(after) < before
    assert [e["event"] for e in after].count("session_started") == 1
    assert say(stack, long, question) == expected


def test_a_question_asked_just_before_a_rollover_is_answered_after_it(stack: Stack) -> None:
    probe = f"probe-{uuid.uuid4().hex}"
    say(stack, probe, FILLER)
    start = len(session(stack, probe))
    asked = say(stack, probe, "我们企业能拿增长补贴吗")
    assert "哪一级" in asked
    question_events = len(session(stack, probe)) - start

    sender = f"rollover-{uuid.uuid4().hex}"
    say(stack, sender, FILLER)
    # Fill until the question's turn takes the session past the limit, then ask it.
    length = fill_until(stack, sender, MAX_SESSION_EVENTS - question_events)
    assert length <= MAX_SESSION_EVENTS, "a filler turn outgrew the question's: pick another filler"
    assert say(stack, sender, "我们企业能拿增长补贴吗") == asked
    assert len(session(stack, sender)) > MAX_SESSION_EVENTS

    assert "增长了多少" in say(stack, sender, "省级的")  # rolled over here: asked_fact carried
    assert len(session(stack, sender)) < MAX_SESSION_EVENTS // 2
    verdict = say(stack, sender, "增长了35%")
    assert "✅" in verdict
    assert "专精特新企业增长补贴" in verdict
