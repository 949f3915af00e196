"""The gateway's event loop never waits on the database: a locked SQLite file stalls only the turn that
must write, while health checks, live streams and reads of other conversations keep answering."""

from __future__ import annotations

import ast
import json
import sqlite3
import threading
import time
from pathlib import Path

import httpx

from bench.stack import ROOT, Stack
from tests.webchat import WebChat

LOCK_S = 20.0
BLOCKING = {"store", "escalations", "registry", "audit", "auth"}


def _hold_write_lock(db: Path, seconds: float, ready: threading.Event) -> None:
    con = sqlite3.connect(db, timeout=30)
    con.execute("BEGIN IMMEDIATE")  # the write lock; readers go on (WAL)
    ready.set()
    time.sleep(seconds)
    con.rollback()
    con.close()


def test_a_locked_database_stalls_only_the_turn_that_writes(stack: Stack) -> None:
    assert "DB_BUSY_TIMEOUT_S" not in stack.env  # the default busy timeout (15 s)
    db = Path(stack.env["DATABASE_URL"].removeprefix("sqlite:///"))
    other = WebChat(stack.gateway)
    other.send("专精特新企业增长补贴有多少")
    watched = WebChat(stack.gateway)
    watched.send("你好")
    arrivals: list[tuple[float, dict[str, object]]] = []
    stream_open = threading.Event()

    def follow() -> None:
        url = f"{stack.gateway}/api/conversations/{watched.sender_id}/stream"
        last = watched.messages()[-1]["id"]
        with httpx.stream("GET", url, params={"after": last}, headers=watched.headers, timeout=60) as resp:
            stream_open.set()
            for line in resp.iter_lines():
                if line.startswith("data: "):
                    arrivals.append((time.monotonic(), json.loads(line[6:])))
                    if arrivals[-1][1].get("role") == "bot":
                        return

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    assert stream_open.wait(10)

    ready = threading.Event()
    locker = threading.Thread(target=_hold_write_lock, args=(db, LOCK_S, ready))
    locker.start()
    assert ready.wait(10)
    locked_at = time.monotonic()
    blocked: dict[str, object] = {}

    def blocked_turn() -> None:
        started = time.monotonic()
        resp = WebChat(stack.gateway).post("质量奖有多少企业获评")
        blocked.update(status=resp.status_code, body=resp.json(), seconds=time.monotonic() - started)

    turn = threading.Thread(target=blocked_turn)
    turn.start()
    time.sleep(0.5)  # the turn is now waiting for the lock

    slowest = 0.0
    checks = 0
    while time.monotonic() - locked_at < 12:
        started = time.monotonic()
        health = httpx.get(f"{stack.gateway}/healthz", timeout=5)
        assert health.status_code == 200, health.text
        assert other.messages()[0]["text"] == "专精特新企业增长补贴有多少"
        with httpx.stream(
            "GET",
            f"{stack.gateway}/api/conversations/{other.sender_id}/stream",
            headers=other.headers,
            timeout=5,
        ) as resp:
            first = next(line for line in resp.iter_lines() if line.startswith("data: "))
        assert json.loads(first[6:])["text"] == "专精特新企业增长补贴有多少"
        slowest = max(slowest, time.monotonic() - started)
        checks += 1
        time.sleep(0.5)
    assert checks >= 8
    assert slowest < 1.0, f"a read took {slowest:.2f}s while the database was locked"

    turn.join(timeout=30)
    assert blocked["status"] == 503
    assert "storage" in str(blocked["body"])
    assert float(str(blocked["seconds"])) < LOCK_S  # refused within the busy timeout, lock still held
    locker.join()

    # The stream opened before the lock is still live: the next message arrives at once.
    sent_at = time.monotonic()
    watched.send("数字化转型贷款贴息有多少")
    follower.join(timeout=10)
    assert arrivals, "the open stream delivered nothing after the lock"
    assert arrivals[0][1]["text"] == "数字化转型贷款贴息有多少"
    assert arrivals[0][0] - sent_at < 1.0
    print(
        f"\nlocked {LOCK_S:.0f}s: {checks} health+read+stream checks, slowest {slowest * 1000:.0f} ms; "
        f"the writing turn got 503 after {float(str(blocked['seconds'])):.1f}s"
    )


def _blocking_calls_in_async_code(path: Path) -> list[str]:
    """``services.store.x(...)``-style calls made directly (not through ``services.db``) inside an
    ``async def`` of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            if (
                isinstance(owner, ast.Attribute)
                and owner.attr in BLOCKING
                and ast.unparse(owner.value).endswith("services")
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
    return found


def test_no_async_code_of_the_gateway_calls_the_store_directly() -> None:
    calls = [
        c for path in sorted((ROOT / "gateway").rglob("*.py")) for c in _blocking_calls_in_async_code(path)
    ]
    assert not calls, "blocking calls on the event loop (use `await services.db(...)`):\n" + "\n".join(calls)
