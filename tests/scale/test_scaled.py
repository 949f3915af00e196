"""Scale-out on existing engines: two Rasa instances sharing a SQLTrackerStore on PostgreSQL and a
RedisLockStore, a two-worker gateway on PostgreSQL; and 50 concurrent conversations on it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.stack import Stack, free_port, stack_env

PG = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from tests.conftest import _require_model

    _require_model()
    database = f"hqt_scale_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{PG}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f"CREATE DATABASE {database}"))
    tmp: Path = tmp_path_factory.mktemp("scaled")
    second = free_port()
    env = stack_env(tmp, DATABASE_URL=f"{PG}/{database}", RASA_TRACKER_STORE_URL=f"{PG}/{database}",
                    REDIS_URL="redis://127.0.0.1:6379", GATEWAY_WORKERS="2")
    env["RASA_URLS"] = f"http://127.0.0.1:{env['RASA_PORT']},http://127.0.0.1:{second}"
    running = Stack(env=env, logs=tmp)
    try:
        running.start("actions")
        running.start("rasa")
        running.wait("rasa")  # the first instance creates the tracker tables
        running.start("rasa2", "--port", str(second))
        running.start("gateway")
        for name in ("actions", "gateway", "rasa2"):
            running.wait(name)
        yield running
    finally:
        running.stop()
        with admin.connect() as con:
            con.execute(sa.text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin.dispose()


def rest(url: str, sender: str, text: str) -> str:
    resp = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    resp.raise_for_status()
    return "\n".join(m.get("text", "") for m in resp.json())


def test_dialogue_state_carries_over_between_instances(scaled: Stack) -> None:
    first, second = scaled.env["RASA_URLS"].split(",")
    sender = f"scale-{uuid.uuid4().hex}"
    assert "哪一级" in rest(first, sender, "我们企业能拿增长补贴吗")
    assert "增长了多少" in rest(second, sender, "省级的")  # instance 2 continues instance 1's form
    verdict = rest(first, sender, "增长了35%")
    assert "✅" in verdict and "专精特新企业增长补贴" in verdict


def test_fifty_concurrent_conversations_ten_handing_off(scaled: Stack) -> None:
    asyncio.run(_fifty(scaled))


async def _fifty(stack: Stack) -> None:
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
