"""The WeCom outbound queue: rows written with the turn that produced them, sent by one worker loop
within WeCom's per-receiver rate limits (WeCom silently drops the excess, so we never exceed them)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from wechatpy.exceptions import WeChatClientException

from gateway.bus import Wake
from gateway.data.outbound import Outbound, OutboundRow
from gateway.data.schema import utcnow
from gateway.data.store import Store
from gateway.wecom.client import WeComClient, post_json
from gateway.wecom.kf_client import UNDELIVERABLE, KfClient
from huiqitong.settings import Settings

logger = logging.getLogger(__name__)
# (messages, seconds) per receiver: an app may send one member 30 a minute and 1,000 an hour; a
# group chat and a group-robot webhook take 20 a minute. A response_url takes exactly one. 微信客服
# ("kf", and "kfevent" for a welcome) refuses with an errcode instead of dropping: nothing to count.
LIMITS: dict[str, list[tuple[int, int]]] = {
    "user": [(30, 60), (1000, 3600)],
    "chat": [(20, 60)],
    "webhook": [(20, 60)],
    "aibot": [],
    "kf": [],
    "kfevent": [],
}
KF_KINDS = ("kf", "kfevent")  # kf/send_msg to "<open_kfid>:<external_userid>"; a welcome to its one-time code
FailureHook = Callable[[OutboundRow, Exception], Awaitable[None]]
MAX_ATTEMPTS = 6
FREQ_LIMIT = 45009


class Outbox:
    """Sends pending outbound rows in order per receiver."""

    def __init__(
        self, store: Store, settings: Settings, client: WeComClient | None = None, kf: KfClient | None = None
    ) -> None:
        self.store, self.settings = store, settings
        self.rows = Outbound(store)
        self.client = client or WeComClient(
            settings.wecom_api_base, settings.wecom_corp_id, settings.wecom_secret
        )
        self._kf = kf
        self.wake = Wake()
        self.on_failed: list[
            FailureHook
        ] = []  # told of every row given up on (微信客服 reports it in the case)

    @property
    def kf(self) -> KfClient:
        """The 微信客服 API client (made on first use)."""
        if self._kf is None:
            self._kf = KfClient.from_settings(self.settings, self.client)
        return self._kf

    def enqueue(self, rows: list[dict[str, str]]) -> None:
        """Queue deliveries outside a turn (notifications to liaisons)."""
        if rows:
            self.rows.enqueue(rows)
            self.wake.set()

    def wait_for(self, kind: str, target: str) -> float:
        """Seconds until ``target`` may receive one more message (0 = now); counted from the store,
        so a restart or a second gateway process cannot exceed the limit either."""
        for limit, window in LIMITS.get(kind, []):
            if self.rows.sent_within(target, window) >= limit:
                return float(min(window, 60))
        return 0.0

    def _send(self, row: OutboundRow) -> None:
        kind, target, text = row["kind"], row["target"], row["text"]
        if kind == "user":
            self.client.message.send_text(self.settings.wecom_agent_id, target, text)
        elif kind == "kf":
            open_kfid, external_userid = target.split(":", 1)
            self.kf.send_text(open_kfid, external_userid, text)
        elif kind == "kfevent":
            self.kf.send_on_event(target, text)
        elif kind == "chat":
            self.client.appchat.send_text(target, text)
        else:
            url = (
                f"{self.settings.wecom_api_base.rstrip('/')}/webhook/send?key={target}"
                if kind == "webhook"
                else target
            )
            body = (
                {"msgtype": "text", "text": {"content": text}}
                if kind == "webhook"
                else {"msgtype": "markdown", "markdown": {"content": text}}
            )
            result = post_json(url, body)
            if result.get("errcode", 0) != 0:
                raise WeChatClientException(result.get("errcode"), result.get("errmsg", ""))

    async def send_due(self) -> int:
        """One pass: send every due row whose receiver is within its limits; returns how many were sent.
        Database work runs in the thread pool, like the sends themselves."""
        rows = await run_in_threadpool(self.rows.due)
        blocked: set[str] = set()
        sent = 0
        for row in rows:
            if row["target"] in blocked:
                continue  # keep each receiver's messages in order
            wait = await run_in_threadpool(self.wait_for, row["kind"], row["target"])
            if wait:
                blocked.add(row["target"])
                continue
            if not await run_in_threadpool(self.rows.claim, row["id"]):
                continue
            try:
                await run_in_threadpool(self._send, row)
            except Exception as exc:  # noqa: BLE001 - every failure is retried with backoff, then parked
                attempts = row["attempts"] + 1
                errcode = getattr(exc, "errcode", None)
                delay = 60 if errcode == FREQ_LIMIT else 2**attempts
                # A 微信客服 send refused for the session's state or quota cannot succeed by repeating it.
                final = row["kind"] in KF_KINDS and errcode in UNDELIVERABLE
                status = "failed" if attempts >= MAX_ATTEMPTS or final else "pending"
                logger.warning(
                    "wecom %s to %s failed (attempt %d): %s", row["kind"], row["target"], attempts, exc
                )
                await run_in_threadpool(
                    self.rows.mark_failed,
                    row["id"],
                    status=status,
                    attempts=attempts,
                    error=str(exc)[:500],
                    not_before=utcnow() + timedelta(seconds=delay),
                )
                blocked.add(row["target"])
                if status == "failed":
                    await self._report(row, exc)
                continue
            await run_in_threadpool(self.rows.mark_sent, row["id"], row["attempts"] + 1)
            sent += 1
        return sent

    async def _report(self, row: OutboundRow, exc: Exception) -> None:
        for hook in self.on_failed:
            try:
                await hook(row, exc)
            except Exception:
                logger.exception("reporting the failed %s to %s failed", row["kind"], row["target"])

    async def run(self) -> None:
        """Send forever: on wake-up, and every second for rows that became due."""
        await run_in_threadpool(self.rows.requeue_sending)
        while True:
            try:
                await self.send_due()
            except Exception:
                logger.exception("wecom outbox pass failed")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
