"""The handoff outbox: one sender per packet (concurrent handoffs, concurrent flushes, other
processes), leases that run out, an outbox file from before leases, and the real action server
flushing a kept packet once the gateway is back.

The gateway is an ``httpx.MockTransport`` in-process and a small real HTTP server across processes;
the outbox is a real SQLite file under tmp_path.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.gateway_client import GatewayUnavailable, HandoffClient, Outbox
from bench.stack import ROOT, Stack, free_port, stack_env
from huiqitong.settings import Settings

SECRET = "test-handoff-secret"
GATEWAY_OK = {
    "escalation_id": 7,
    "status": "open",
    "liaison": "张三（市工业和信息化局）",
    "due_text": "今天 17:30 前",
}
OLD_SCHEMA = """CREATE TABLE outbox (
    id INTEGER PRIMARY KEY, sender_id TEXT NOT NULL, packet TEXT NOT NULL,
    created_at REAL NOT NULL, sent_at REAL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)"""


def packet(sender: str) -> dict[str, Any]:
    return {"sender_id": sender, "channel": "rest", "reason": "user_request", "question": f"{sender} 的问题"}


def client_settings(tmp_path: Path, url: str = "http://gateway.test/internal/handoff") -> Settings:
    return Settings(var_dir=tmp_path, kb_path=tmp_path / "unused.db", handoff_secret=SECRET, handoff_url=url)


class MockGateway:
    """An in-process gateway that takes ``delay`` seconds per request and records each sender."""

    def __init__(self, status: int = 200, delay: float = 0.05) -> None:
        self.status, self.delay = status, delay
        self.senders: list[str] = []
        self.transport = httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.senders.append(json.loads(request.content)["sender_id"])
        await asyncio.sleep(self.delay)  # concurrent sends overlap, as they do against a real gateway
        return httpx.Response(
            self.status, json=GATEWAY_OK if self.status == 200 else {"detail": "unavailable"}
        )


class RealGateway:
    """A real HTTP server on 127.0.0.1 that accepts handoff packets, for senders in other processes."""

    def __init__(self, port: int, delay: float = 0.0) -> None:
        self.port, self.delay = port, delay
        self.packets: list[tuple[float, dict[str, Any]]] = []
        self.url = f"http://127.0.0.1:{port}/internal/handoff"

    @contextmanager
    def running(self) -> Iterator[RealGateway]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ok = self.headers.get("X-Handoff-Secret") == SECRET
                if ok:
                    gateway.packets.append((time.monotonic(), body))
                time.sleep(gateway.delay)
                answer = json.dumps(GATEWAY_OK if ok else {"detail": "bad secret"}).encode()
                self.send_response(200 if ok else 403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def senders(self) -> list[str]:
        return [p["sender_id"] for _, p in self.packets]


def outbox_rows(tmp_path: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(tmp_path / "handoff_outbox.db")
    rows = con.execute(
        "SELECT sender_id, sent_at IS NOT NULL, attempts, claimed_until FROM outbox ORDER BY id"
    ).fetchall()
    con.close()
    return rows


def test_four_concurrent_handoffs_each_send_their_own_packet_once(tmp_path: Path) -> None:
    gateway = MockGateway()

    async def four() -> list[dict[str, Any]]:
        # As actions.handoff does: a client per handoff, all on the process's one outbox connection.
        clients = [HandoffClient(client_settings(tmp_path), transport=gateway.transport) for _ in range(4)]
        return await asyncio.gather(*(c.hand_off(packet(f"owner-{i}")) for i, c in enumerate(clients)))

    answers = asyncio.run(four())
    assert answers == [GATEWAY_OK] * 4
    assert sorted(gateway.senders) == ["owner-0", "owner-1", "owner-2", "owner-3"]
    # Each stored, sent and closed once; concurrent handoffs may store their rows in any order.
    assert sorted(outbox_rows(tmp_path)) == [(f"owner-{i}", 1, 1, None) for i in range(4)]


def test_a_handoff_leaves_older_packets_to_the_flush(tmp_path: Path) -> None:
    down = MockGateway(status=503)
    with pytest.raises(GatewayUnavailable):
        asyncio.run(
            HandoffClient(client_settings(tmp_path), transport=down.transport).hand_off(packet("earlier"))
        )
    up = MockGateway()
    client = HandoffClient(client_settings(tmp_path), transport=up.transport)
    asyncio.run(client.hand_off(packet("later")))
    assert up.senders == ["later"]  # not the earlier packet: one sender per packet
    assert asyncio.run(client.flush()) == 1
    assert asyncio.run(client.flush()) == 0
    assert up.senders == ["later", "earlier"]
    assert outbox_rows(tmp_path) == [("earlier", 1, 2, None), ("later", 1, 1, None)]


def test_a_flush_skips_packets_being_sent_by_their_handoff(tmp_path: Path) -> None:
    gateway = MockGateway(delay=0.3)
    client = HandoffClient(client_settings(tmp_path), transport=gateway.transport)

    async def handoff_and_flush() -> int:
        sending = asyncio.create_task(client.hand_off(packet("in-flight")))
        await asyncio.sleep(0.1)  # the handoff has kept and claimed its packet and is waiting on the gateway
        flushed = await client.flush()
        await sending
        return flushed

    assert asyncio.run(handoff_and_flush()) == 0
    assert gateway.senders == ["in-flight"]


def test_a_claim_left_by_a_dead_sender_runs_out(tmp_path: Path) -> None:
    gateway = MockGateway()
    client = HandoffClient(client_settings(tmp_path), transport=gateway.transport)
    Outbox.at(tmp_path / "handoff_outbox.db").keep(
        packet("orphan"), lease_s=0.3
    )  # kept, then the sender died
    assert asyncio.run(client.flush()) == 0
    time.sleep(0.4)
    assert asyncio.run(client.flush()) == 1
    assert gateway.senders == ["orphan"]


def test_an_outbox_from_before_leases_is_migrated_and_flushed(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "handoff_outbox.db")
    con.execute(OLD_SCHEMA)
    con.execute(
        "INSERT INTO outbox (sender_id, packet, created_at, attempts, last_error) VALUES (?, ?, ?, 1, ?)",
        ("from-v1", json.dumps(packet("from-v1"), ensure_ascii=False), time.time(), "gateway answered 503"),
    )
    con.commit()
    con.close()
    gateway = MockGateway()
    client = HandoffClient(client_settings(tmp_path), transport=gateway.transport)
    assert asyncio.run(client.flush()) == 1
    assert gateway.senders == ["from-v1"]
    assert outbox_rows(tmp_path) == [("from-v1", 1, 2, None)]


FLUSH_SCRIPT = """
import asyncio, sys
from pathlib import Path
from actions.gateway_client import HandoffClient
from huiqitong.settings import Settings
settings = Settings(var_dir=Path(sys.argv[1]), handoff_secret=sys.argv[2], handoff_url=sys.argv[3])
print(asyncio.run(HandoffClient(settings).flush()))
"""


def test_two_processes_flushing_at_once_send_each_packet_once(tmp_path: Path) -> None:
    gateway = RealGateway(free_port(), delay=0.2)
    settings = client_settings(tmp_path, gateway.url)
    for i in range(6):  # kept while the gateway was down
        with pytest.raises(GatewayUnavailable):
            asyncio.run(HandoffClient(settings).hand_off(packet(f"kept-{i}")))
    with gateway.running():
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", FLUSH_SCRIPT, str(tmp_path), SECRET, gateway.url],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        counts = [int(p.communicate(timeout=60)[0].strip()) for p in procs]
    assert sum(counts) == 6
    assert min(counts) > 0
    assert sorted(gateway.senders()) == [f"kept-{i}" for i in range(6)]


def test_the_action_server_sends_a_kept_packet_once_the_gateway_is_back(
    tmp_path: Path,
    knowledge_base: Settings,
) -> None:
    gateway = RealGateway(free_port())
    env = stack_env(tmp_path, KB_PATH=str(knowledge_base.kb_path), HANDOFF_URL=gateway.url)
    assert "HANDOFF_FLUSH_INTERVAL_S" not in env  # the shipped default
    stack = Stack(env=env, logs=tmp_path)
    try:
        stack.start("actions")
        stack.wait("actions")
        settings = client_settings(tmp_path, gateway.url)
        with pytest.raises(GatewayUnavailable):  # the gateway is down during this handoff
            asyncio.run(HandoffClient(settings).hand_off(packet("while-down")))
        with gateway.running():
            back = time.monotonic()
            while not gateway.packets and time.monotonic() - back < 60:
                time.sleep(0.2)
            assert gateway.senders() == ["while-down"]
            assert (
                gateway.packets[0][0] - back <= settings.handoff_flush_interval_s + 5
            )  # well within a minute
            time.sleep(1.0)
            assert gateway.senders() == ["while-down"]
        assert HandoffClient(settings).pending() == []
    finally:
        stack.stop()
