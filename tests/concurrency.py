"""50 concurrent conversations, 10 of them handing off at once (twice each): shared by the SQLite
stack and the scaled PostgreSQL stack."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.stack import Stack


async def fifty_conversations(stack: Stack) -> None:
    """No duplicate escalations, no cross-talk between conversations."""
    senders = [f"web-c{i:02d}-{uuid.uuid4().hex[:8]}" for i in range(50)]
    questions = {s: f"第{i}号企业：专精特新企业增长30%有什么补贴" for i, s in enumerate(senders)}
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=120) as client:
        async def turn(sender: str, text: str) -> dict[str, object]:
            resp = await client.post("/api/chat", json={"sender_id": sender, "text": text})
            assert resp.status_code == 200, resp.text
            return dict(resp.json())

        answers = await asyncio.gather(*(turn(s, questions[s]) for s in senders))
        for sender, out in zip(senders, answers, strict=True):
            assert out["sender_id"] == sender
            assert "10-100" in out["replies"][0]["text"]  # type: ignore[index]
        handing = senders[:10]
        outs = await asyncio.gather(*(turn(s, "转人工") for s in handing for _ in range(2)))
        ids = {out["handoff"]["escalation_id"] for out in outs}  # type: ignore[index]
        assert len(ids) == 10  # each conversation exactly one open escalation, twice asked
        for sender in senders:
            history = (await client.get(f"/api/conversations/{sender}/messages")).json()
            users = [m["text"] for m in history if m["role"] == "user"]
            assert users[0] == questions[sender]  # no cross-talk
            assert all(t in (questions[sender], "转人工") for t in users)
