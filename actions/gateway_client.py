"""The action server's one client of the gateway: posting handoff packets, with a durable outbox.

A packet is written to the outbox (SQLite under var/) before it is sent, and marked sent only when
the gateway acknowledged it, so a gateway that is down loses nothing: pending packets are sent
again on the next handoff and at action-server start.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from knowledge.settings import Settings, get_settings

logger = logging.getLogger(__name__)
_SCHEMA = """CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, sender_id TEXT NOT NULL, packet TEXT NOT NULL,
    created_at REAL NOT NULL, sent_at REAL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)"""


class GatewayUnavailable(RuntimeError):
    """The gateway did not accept the packet; it stays in the outbox."""


class HandoffClient:
    """Posts handoff packets to the gateway's internal endpoint with the shared secret."""

    def __init__(self, settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings or get_settings()
        self.outbox_path: Path = self.settings.var_dir / "handoff_outbox.db"
        self._transport = transport

    def _db(self) -> sqlite3.Connection:
        self.outbox_path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.outbox_path, timeout=10)
        con.execute(_SCHEMA)
        return con

    def keep(self, packet: dict[str, Any]) -> int:
        """Store a packet before sending it; returns its outbox id."""
        with self._db() as con:
            cur = con.execute(
                "INSERT INTO outbox (sender_id, packet, created_at) VALUES (?, ?, ?)",
                (packet["sender_id"], json.dumps(packet, ensure_ascii=False), time.time()),
            )
            return int(cur.lastrowid or 0)

    def pending(self) -> list[tuple[int, dict[str, Any]]]:
        """Packets not yet acknowledged by the gateway, oldest first."""
        with self._db() as con:
            rows = con.execute("SELECT id, packet FROM outbox WHERE sent_at IS NULL ORDER BY id").fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    async def _post(self, packet: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient(transport=self._transport, timeout=self.settings.handoff_timeout_s) as client:
            resp = await client.post(
                self.settings.handoff_endpoint, json=packet,
                headers={"X-Handoff-Secret": self.settings.handoff_secret},
            )
        if resp.status_code >= 400:
            raise GatewayUnavailable(f"gateway answered {resp.status_code}: {resp.text[:200]}")
        return dict(resp.json())

    async def send(self, outbox_id: int, packet: dict[str, Any]) -> dict[str, Any]:
        """Send one stored packet; marks it sent, or records the error and raises GatewayUnavailable."""
        try:
            answer = await self._post(packet)
        except (httpx.HTTPError, ValueError, GatewayUnavailable) as exc:
            with self._db() as con:
                con.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", (str(exc), outbox_id))
            logger.warning("handoff for %s kept in outbox: %s", packet.get("sender_id"), exc)
            raise GatewayUnavailable(str(exc)) from exc
        with self._db() as con:
            con.execute("UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?", (time.time(), outbox_id))
        return answer

    async def flush(self) -> int:
        """Send every pending packet; returns how many the gateway accepted."""
        sent = 0
        for outbox_id, packet in self.pending():
            try:
                await self.send(outbox_id, packet)
                sent += 1
            except GatewayUnavailable:
                break
        return sent

    async def hand_off(self, packet: dict[str, Any]) -> dict[str, Any]:
        """Keep, then send, a packet (after older pending ones)."""
        outbox_id = self.keep(packet)
        for older_id, older in self.pending():
            if older_id != outbox_id:
                try:
                    await self.send(older_id, older)
                except GatewayUnavailable:
                    break
        return await self.send(outbox_id, packet)
