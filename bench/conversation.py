"""One long conversation through ``POST /api/chat``, one message at a time: does a turn cost more the
longer the conversation has run? A WeCom group's conversation never ends, so it must not.

The conversation cycles through 20 fixed policy questions, so turns 1–20 and turns 490–510 ask the
same questions and their median latencies compare like with like.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

TURNS = 510
EARLY = (1, 20)  # turns, 1-based and inclusive
LATE = (490, 510)
CYCLE = 20


def questions_cycle(questions: list[str], size: int = CYCLE) -> list[str]:
    """``size`` questions spread over the whole labelled set (not only its first topic)."""
    step = max(1, len(questions) // size)
    return questions[::step][:size]


def window_median(latencies: list[float], window: tuple[int, int]) -> float:
    """Median latency of turns ``window`` (1-based, inclusive)."""
    return statistics.median(latencies[window[0] - 1 : window[1]])


def run(gateway: str, questions: list[str], turns: int = TURNS) -> dict[str, Any]:
    """Send ``turns`` messages in one conversation and time each; refuse a handoff (it would stop the
    bot answering and make the later turns cheap for the wrong reason)."""
    texts = questions_cycle(questions)
    sender: str | None = None
    headers: dict[str, str] = {}
    latencies: list[float] = []
    with httpx.Client(base_url=gateway, timeout=120) as client:
        for i in range(turns):
            body: dict[str, Any] = {"text": texts[i % len(texts)]}
            if sender:
                body["sender_id"] = sender
            started = time.perf_counter()
            resp = client.post("/api/chat", json=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if resp.status_code != 200:
                raise RuntimeError(f"turn {i + 1}: HTTP {resp.status_code} {resp.text[:200]}")
            data = resp.json()
            if data.get("handoff") or not data.get("replies"):
                raise RuntimeError(f"turn {i + 1} ({body['text']}): no bot answer: {str(data)[:300]}")
            if sender is None:
                sender = data["sender_id"]
                headers = {"X-Conversation-Token": data["conversation_token"]}
    early, late = window_median(latencies, EARLY), window_median(latencies, LATE)
    return {
        "turns": turns,
        "median_ms_turns_1_20": round(early, 1),
        "median_ms_turns_490_510": round(late, 1),
        "turn_ms_ratio_500_vs_10": round(late / early, 3),
        "latency_ms": [round(x, 1) for x in latencies],
    }
