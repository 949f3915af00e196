"""The action server's one client of the gateway: posting handoff packets, with a durable outbox.

A packet is written to the outbox (SQLite under var/) before it is sent, and marked sent only when
the gateway acknowledged it, so a gateway that is down loses nothing. Every packet has one sender:
``hand_off`` sends only the packet it just kept, and packets left over from an outage are sent by
``flush``, which the action server runs at start-up and every HANDOFF_FLUSH_INTERVAL_S. A sender
first claims its packet (a lease in ``claimed_until``), so concurrent handoffs, flushes and action
server workers never send the same packet at the same time; a sender that dies mid-send leaves a
lease that runs out, and the gateway's one-open-case-per-conversation rule absorbs that rare resend.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from huiqitong.settings import Settings, get_settings

logger = logging.getLogger(__name__)
_SCHEMA = """CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, sender_id TEXT NOT NULL, packet TEXT NOT NULL,
    created_at REAL NOT NULL, sent_at REAL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    claimed_until REAL)"""


class GatewayUnavailable(RuntimeError):
    """The gateway did not accept the packet; it stays in the outbox."""


class Outbox:
    """The outbox file, opened once per process: one connection, used under a lock.

    Its methods block (briefly); async callers run them in a thread. ``Outbox.at(path)`` is the way
    to get one, so every ``HandoffClient`` of a process shares the connection.
    """

    _open: dict[tuple[int, Path], Outbox] = {}
    _open_lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Autocommit: single statements commit at once, claim() opens its own write transaction.
        self._con = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._con.execute(_SCHEMA)
            columns = {row[1] for row in self._con.execute("PRAGMA table_info(outbox)")}
            if "claimed_until" not in columns:  # an outbox written before leases
                self._con.execute("ALTER TABLE outbox ADD COLUMN claimed_until REAL")

    @classmethod
    def at(cls, path: Path) -> Outbox:
        """This process's outbox at ``path`` (a forked worker opens its own connection)."""
        key = (os.getpid(), path.resolve())
        with cls._open_lock:
            if key not in cls._open:
                cls._open[key] = cls(path)
            return cls._open[key]

    def keep(self, packet: dict[str, Any], lease_s: float) -> int:
        """Store a packet, claimed by the caller for ``lease_s``; returns its outbox id."""
        now = time.time()
        with self._lock:
            cur = self._con.execute(
                "INSERT INTO outbox (sender_id, packet, created_at, claimed_until) VALUES (?, ?, ?, ?)",
                (packet["sender_id"], json.dumps(packet, ensure_ascii=False), now, now + lease_s),
            )
        return int(cur.lastrowid or 0)

    def claim_next(self, lease_s: float) -> tuple[int, dict[str, Any]] | None:
        """Claim the oldest unsent packet nobody else holds, or None when there is none."""
        now = time.time()
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")  # the write lock first: other processes wait here
            try:
                row = self._con.execute(
                    "SELECT id, packet FROM outbox WHERE sent_at IS NULL"
                    " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT 1",
                    (now,),
                ).fetchone()
                if row is not None:
                    self._con.execute(
                        "UPDATE outbox SET claimed_until = ? WHERE id = ?", (now + lease_s, row[0])
                    )
            finally:
                self._con.execute("COMMIT")
        return None if row is None else (row[0], json.loads(row[1]))

    def mark_sent(self, outbox_id: int) -> None:
        """The gateway acknowledged the packet."""
        with self._lock:
            self._con.execute(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, claimed_until = NULL WHERE id = ?",
                (time.time(), outbox_id),
            )

    def release(self, outbox_id: int, error: str) -> None:
        """The send failed: record why and let the next flush have the packet."""
        with self._lock:
            self._con.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, claimed_until = NULL"
                " WHERE id = ?",
                (error, outbox_id),
            )

    def pending(self) -> list[tuple[int, dict[str, Any]]]:
        """Packets not yet acknowledged by the gateway, oldest first (claimed ones included)."""
        with self._lock:
            rows = self._con.execute(
                "SELECT id, packet FROM outbox WHERE sent_at IS NULL ORDER BY id"
            ).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]


class HandoffClient:
    """Posts handoff packets to the gateway's internal endpoint with the shared secret."""

    def __init__(
        self, settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings or get_settings()
        self.outbox_path: Path = self.settings.var_dir / "handoff_outbox.db"
        self.outbox = Outbox.at(self.outbox_path)
        self._transport = transport
        # Longer than one send can take: httpx's timeout bounds connect, write and read each.
        self.lease_s = 3 * self.settings.handoff_timeout_s + 10.0

    def keep(self, packet: dict[str, Any]) -> int:
        """Store a packet before sending it (claimed by this client); returns its outbox id."""
        return self.outbox.keep(packet, self.lease_s)

    def pending(self) -> list[tuple[int, dict[str, Any]]]:
        """Packets not yet acknowledged by the gateway, oldest first."""
        return self.outbox.pending()

    async def _post(self, packet: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient(
            transport=self._transport, timeout=self.settings.handoff_timeout_s
        ) as client:
            resp = await client.post(
                self.settings.handoff_endpoint,
                json=packet,
                headers={"X-Handoff-Secret": self.settings.handoff_secret},
            )
        if resp.status_code >= 400:
            raise GatewayUnavailable(f"gateway answered {resp.status_code}: {resp.text[:200]}")
        return dict(resp.json())

    async def send(self, outbox_id: int, packet: dict[str, Any]) -> dict[str, Any]:
        """Send one packet this client has claimed; marks it sent, or records the error, releases the
        claim and raises GatewayUnavailable."""
        try:
            answer = await self._post(packet)
        except (httpx.HTTPError, ValueError, GatewayUnavailable) as exc:
            await asyncio.to_thread(self.outbox.release, outbox_id, str(exc))
            logger.warning("handoff for %s kept in outbox: %s", packet.get("sender_id"), exc)
            raise GatewayUnavailable(str(exc)) from exc
        await asyncio.to_thread(self.outbox.mark_sent, outbox_id)
        return answer

    async def flush(self) -> int:
        """Send pending packets, oldest first, until the gateway refuses one; returns how many it accepted."""
        sent = 0
        while (claimed := await asyncio.to_thread(self.outbox.claim_next, self.lease_s)) is not None:
            try:
                await self.send(*claimed)
            except GatewayUnavailable:
                break
            sent += 1
        return sent

    async def hand_off(self, packet: dict[str, Any]) -> dict[str, Any]:
        """Keep, then send, this packet (older pending ones are ``flush``'s: one sender per packet)."""
        outbox_id = await asyncio.to_thread(self.keep, packet)
        return await self.send(outbox_id, packet)


async def flush_every(client: HandoffClient, interval_s: float) -> None:
    """Flush the outbox now and then every ``interval_s`` seconds, until cancelled."""
    while True:
        try:
            sent = await client.flush()
            if sent:
                logger.info("sent %d handoff packets left in the outbox", sent)
        except Exception:
            logger.exception("handoff outbox flush failed")
        await asyncio.sleep(interval_s)
