"""50 concurrent conversations, 10 of them handing off at once (twice each): shared by the SQLite
stack and the scaled PostgreSQL stack."""

from __future__ import annotations

import asyncio

import httpx

from bench.stack import Stack


async def fifty_conversations(stack: Stack) -> None:
    """No duplicate escalations, no cross-talk between conversations."""
    questions = [f"第{i}号企业：专精特新企业增长30%有什么补贴" for i in range(50)]
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=120) as client:

        async def turn(text: str, owner: tuple[str, str] | None = None) -> dict[str, object]:
            body = {"text": text, **({"sender_id": owner[0]} if owner else {})}
            headers = {"X-Conversation-Token": owner[1]} if owner else {}
            resp = await client.post("/api/chat", json=body, headers=headers)
            assert resp.status_code == 200, resp.text
            return dict(resp.json())

        answers = await asyncio.gather(*(turn(q) for q in questions))
        owners = {}
        for question, out in zip(questions, answers, strict=True):
            assert "10-100" in out["replies"][0]["text"]  # type: ignore[index]
            owners[question] = (str(out["sender_id"]), str(out["conversation_token"]))
        assert len({o[0] for o in owners.values()}) == 50
        handing = list(owners.values())[:10]
        outs = await asyncio.gather(*(turn("转人工", o) for o in handing for _ in range(2)))
        ids = {out["handoff"]["escalation_id"] for out in outs}  # type: ignore[index]
        assert len(ids) == 10  # each conversation exactly one open escalation, twice asked
        for question, (sender, token) in owners.items():
            history = (
                await client.get(
                    f"/api/conversations/{sender}/messages", headers={"X-Conversation-Token": token}
                )
            ).json()
            users = [m["text"] for m in history if m["role"] == "user"]
            assert users[0] == question  # no cross-talk
            assert all(t in (question, "转人工") for t in users)
