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

from tests.concurrency import fifty_conversations
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
    asyncio.run(fifty_conversations(scaled))
