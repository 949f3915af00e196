"""Scale-out on existing engines: two Rasa instances sharing a SQLTrackerStore on PostgreSQL and a
RedisLockStore, a two-worker gateway on PostgreSQL; and 50 concurrent conversations on it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bench.load import scaled_stack
from tests.concurrency import fifty_conversations
from tests.stack import Stack


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The benchmark's scaled stack, in a PostgreSQL database of its own."""
    from tests.conftest import _require_model

    _require_model()
    with scaled_stack(tmp_path_factory.mktemp("scaled")) as stack:
        yield stack


def rest(url: str, sender: str, text: str) -> str:
    resp = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    resp.raise_for_status()
    return "\n".join(m.get("text", "") for m in resp.json())


def test_dialogue_state_carries_over_between_instances(scaled: Stack) -> None:
    first, second = scaled.env["RASA_URLS"].split(",")
    sender = f"scale-{uuid.uuid4().hex}"
    assert "哪一级" in rest(first, sender, "我们企业能拿增长补贴吗")
    assert "增长了多少" in rest(second, sender, "省级的")  # instance 2 answers the fact instance 1 asked
    verdict = rest(first, sender, "增长了35%")
    assert "✅" in verdict and "专精特新企业增长补贴" in verdict


def test_fifty_concurrent_conversations_ten_handing_off(scaled: Stack) -> None:
    asyncio.run(fifty_conversations(scaled))
