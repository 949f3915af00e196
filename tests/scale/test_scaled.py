"""Scale-out on existing engines: two Rasa instances sharing a SQLTrackerStore on PostgreSQL and a
RedisLockStore, a two-worker gateway on PostgreSQL; and 50 concurrent conversations on it."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.load import scaled_stack
from bench.stack import Stack
from bot.tracker_store import MAX_SESSION_EVENTS
from tests.concurrency import fifty_conversations


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
    assert "✅" in verdict
    assert "专精特新企业增长补贴" in verdict


def test_a_long_conversation_rolls_over_on_the_shared_tracker_store(scaled: Stack) -> None:
    """The SQL tracker store keeps every session and loads the latest; the launcher rolls a long one
    over."""
    urls = scaled.env["RASA_URLS"].split(",")
    sender = f"scale-long-{uuid.uuid4().hex}"

    def session() -> list[dict[str, object]]:
        """The latest session's events (the tracker API returns every session's)."""
        resp = httpx.get(
            f"{urls[0]}/conversations/{sender}/tracker",
            params={"token": scaled.env["RASA_TOKEN"]},
            timeout=30,
        )
        events = list(resp.json()["events"])
        starts = [i for i, e in enumerate(events) if e["event"] == "session_started"]
        return events[starts[-1] :]

    assert "哪一级" in rest(urls[0], sender, "我们企业能拿增长补贴吗")
    turns = 0
    while len(session()) <= MAX_SESSION_EVENTS:
        assert turns < MAX_SESSION_EVENTS, "the session never grew"
        rest(urls[turns % 2], sender, "谢谢")
        turns += 1
    assert "哪一级" in rest(urls[turns % 2], sender, "我们企业能拿增长补贴吗")  # rolled over here
    assert len(session()) < MAX_SESSION_EVENTS // 2
    assert "增长了多少" in rest(urls[(turns + 1) % 2], sender, "省级的")  # asked_fact carried over
    verdict = rest(urls[turns % 2], sender, "增长了35%")
    assert "✅" in verdict
    assert "专精特新企业增长补贴" in verdict


def test_fifty_concurrent_conversations_ten_handing_off(scaled: Stack) -> None:
    asyncio.run(fifty_conversations(scaled))


def worker_of(stack: Stack, conn: http.client.HTTPConnection) -> int:
    """PID of the gateway worker that accepted ``conn``: the process holding the server end of it."""
    assert conn.sock is not None
    ours, gateway = conn.sock.getsockname()[1], int(stack.env["GATEWAY_PORT"])
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == gateway and int(fields[2].rsplit(":", 1)[1], 16) == ours:
            inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if inodes & {os.readlink(fd) for fd in (entry / "fd").iterdir()}:
                    return int(entry.name)
            except OSError:
                continue
    raise AssertionError(f"no process holds the gateway end of port {ours}")


def login(conn: http.client.HTTPConnection, username: str, password: str) -> int:
    conn.request(
        "POST",
        "/api/liaison/login",
        body=json.dumps({"username": username, "password": password}),
        headers={"Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    resp.read()
    return resp.status


def test_login_limit_holds_across_the_two_gateway_workers(scaled: Stack) -> None:
    username, password = f"scale_{uuid.uuid4().hex[:12]}", "scale-right-password"  # fresh Redis keys each run
    scaled.add_liaison(username, password, "扩容", "市工业和信息化局")
    conns: dict[int, http.client.HTTPConnection] = {}  # worker pid → a kept-alive connection it accepted
    opened: list[http.client.HTTPConnection] = []
    try:
        while len(conns) < 2 and len(opened) < 40:
            conn = http.client.HTTPConnection("127.0.0.1", int(scaled.env["GATEWAY_PORT"]), timeout=30)
            opened.append(conn)
            conn.request("GET", "/api/liaison/me")  # unauthenticated: answered at once, counts nothing
            conn.getresponse().read()
            conns.setdefault(worker_of(scaled, conn), conn)
        assert len(conns) == 2, "uvicorn gave every connection to one worker"
        first, second = conns.values()
        codes = [login(first if i % 2 == 0 else second, username, f"guess-{i}") for i in range(5)]
        assert codes == [401] * 5  # three failures seen by one worker, two by the other
        assert login(second, username, "guess-5") == 429  # per-worker counting would answer 401 here
        assert login(first, username, password) == 429  # locked out on both, even with the right password
    finally:
        for conn in opened:
            conn.close()
