"""微信客服 as a channel: owners who are not members of the corp chat in WeChat with a service account
the bureau controls through the ``kf/*`` API.

WeCom's callback carries no message, only the event ``kf_msg_or_event`` with a Token (good for 10
minutes) and the account (``OpenKfId``). The messages are pulled with ``kf/sync_msg`` from a cursor kept
in the store per account, page by page: each message is stored once (by msgid) before the cursor moves,
so a crash mid-pull or a retried callback neither loses nor repeats one. Conversations are
``wecomkf:<open_kfid>:<external_userid>``; they are processed by the WeCom channel's worker like the
app's, and answered through the WeCom outbox with ``kf/send_msg`` (the welcome with
``kf/send_msg_on_event``).

Handoff relays, it does not transfer. The session stays with the API (state 0/1 "由智能助手接待") and
the liaison's answers, from the console or from WeCom, go out through ``kf/send_msg``. Transferring
with ``kf/service_state/trans`` to state 3 "由人工接待" needs a 接待人员 of the account who is
"正在接待", which most liaisons are not, and WeCom allows no way back from 3 to the bot: only ending
the session (4), after which the API cannot write until the owner does (developer.work.weixin.qq.com
/document/path/94698, 分配客服会话). If a 接待人员 takes a session in the WeCom client anyway, what
they write is recorded as the liaison's and our sends fail with 95018, reported in the case.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from gateway.bus import Wake
from gateway.data.escalations import EscalationError
from gateway.data.outbound import OutboundRow
from gateway.data.wecom import KfState, WeComData
from gateway.services import Services
from gateway.wecom.channel import ONLY_TEXT, button_choice, render
from gateway.wecom.client import split_text
from gateway.wecom.kf_client import INVALID_MSG_TOKEN, UNDELIVERABLE, KfClient, KfError
from gateway.wecom.kf_ids import KF_PREFIX, parse_sender, sender_id
from gateway.wecom.outbox import KF_KINDS, Outbox

logger = logging.getLogger(__name__)
CHANNEL = KF_PREFIX
ORIGIN_CUSTOMER, ORIGIN_SERVICER = 3, 5
WELCOME_WINDOW_S = 20  # a welcome_code may be used once, within 20 s of the event
GREET = "/greet"
WELCOME = "您好！我是惠企通，中山市工业和信息化局的政策助手。请直接输入您的问题；需要人工服务请回复“转人工”。"
RETRY_S = 5.0
MAX_PAGES = 50  # per pull; a longer backlog continues in the next pass
FAIL_TYPES = {
    0: "未知原因",
    1: "客服账号已删除",
    2: "应用已关闭",
    4: "会话已过期，超过48小时",
    5: "会话已关闭",
    6: "超过5条限制",
    7: "未绑定视频号",
    8: "主体未验证",
    9: "未绑定视频号且主体未验证",
    10: "用户拒收",
}


class KfChannel:
    """Pulls, stores and answers 微信客服 messages; reports the ones that could not be delivered."""

    def __init__(
        self,
        services: Services,
        outbox: Outbox,
        client: KfClient,
        process: asyncio.Event,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.services, self.outbox, self.client = services, outbox, client
        self.state = KfState(services.store)
        self.data = WeComData(services.store)
        self.process = process  # wakes the worker that answers stored messages
        self.clock = clock
        self.wake = Wake()
        self.due: dict[str, float] = {}  # open_kfid -> monotonic time of its next pull

    # -- pulling --------------------------------------------------------------------------------
    async def on_event(self, open_kfid: str, token: str) -> None:
        """A ``kf_msg_or_event`` callback: keep its Token durably and pull the account soon."""
        if not open_kfid:
            return
        if token:
            await self.services.db(self.state.save_token, open_kfid, token)
        self.due[open_kfid] = 0.0
        self.wake.set()

    async def run(self) -> None:
        """Pull forever: accounts with a callback waiting, and at start-up those whose Token is still good
        (a gateway that died mid-pull resumes from the stored cursor)."""
        for open_kfid in await self.services.db(self.state.accounts_with_fresh_tokens):
            self.due.setdefault(open_kfid, 0.0)
        while True:
            now = time.monotonic()
            for open_kfid in [k for k, at in self.due.items() if at <= now]:
                del self.due[open_kfid]
                try:
                    await self.pull(open_kfid)
                except Exception:
                    logger.exception("wecom kf pull of %s failed; retrying in %.0f s", open_kfid, RETRY_S)
                    self.due.setdefault(open_kfid, time.monotonic() + RETRY_S)
            self.wake.clear()
            wait = min(self.due.values(), default=now + 1.0) - time.monotonic()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=min(max(wait, 0.05), 1.0))
            except asyncio.TimeoutError:
                pass

    async def pull(self, open_kfid: str) -> int:
        """Read the account's new messages and events page by page; returns how many were read."""
        cursor = await self.services.db(self.state.cursor, open_kfid)
        token = cursor.fresh_token()
        if token is None:
            logger.info(
                "wecom kf %s: no Token younger than 10 minutes; pulling at the next callback", open_kfid
            )
            return 0
        position, read = cursor.cursor, 0
        for _ in range(MAX_PAGES):
            try:
                page = await self.services.db(self.client.sync_msg, open_kfid, position, token)
            except KfError as exc:
                if exc.errcode != INVALID_MSG_TOKEN:
                    raise
                logger.warning(
                    "wecom kf %s: WeCom refused the callback Token (%s); waiting for a new one",
                    open_kfid,
                    exc.errmsg,
                )
                await self.services.db(self.state.forget_token, open_kfid, token)
                return read
            for msg in page.get("msg_list") or []:
                await self.handle(open_kfid, msg)
                read += 1
            position = str(page.get("next_cursor") or position)
            await self.services.db(
                self.state.save_cursor, open_kfid, position
            )  # only now: every message of the page is stored
            if not page.get("has_more"):
                return read
        self.due.setdefault(open_kfid, 0.0)
        return read

    async def handle(self, open_kfid: str, msg: dict[str, Any]) -> None:
        """One item of ``msg_list`` (idempotent: a page may be read again after a crash)."""
        msgid = str(msg.get("msgid") or "")
        if not msgid:
            return
        if msg.get("msgtype") == "event":
            await self._event(msgid, msg.get("event") or {}, float(msg.get("send_time") or 0))
            return
        await self.services.db(self._message, msgid, open_kfid, msg)

    def _message(self, msgid: str, open_kfid: str, msg: dict[str, Any]) -> None:
        """A customer's or a 接待人员's message (blocking: stores it)."""
        open_kfid = str(msg.get("open_kfid") or open_kfid)
        external = str(msg.get("external_userid") or "")
        text = str((msg.get("text") or {}).get("content") or "") if msg.get("msgtype") == "text" else ""
        origin = int(msg.get("origin") or 0)
        if not external or ":" in external:
            return
        if origin == ORIGIN_SERVICER:
            self._servicer_wrote(msgid, open_kfid, external, str(msg.get("servicer_userid") or ""), text)
        elif origin == ORIGIN_CUSTOMER and text.strip():
            self.accept(msgid, open_kfid, external, text)
        elif origin == ORIGIN_CUSTOMER and self.services.store.first_time(f"wecomkf:msg:{msgid}"):
            self.outbox.enqueue([{"kind": "kf", "target": f"{open_kfid}:{external}", "text": ONLY_TEXT}])

    def accept(self, msgid: str, open_kfid: str, external_userid: str, text: str) -> int | None:
        """Store a customer's text once (by msgid) for the worker to answer; None when seen before."""
        sender = sender_id(open_kfid, external_userid)
        text = button_choice(self.data, sender, text[: self.services.settings.max_message_chars])
        message_id = self.services.store.add_message_once(
            f"wecomkf:msg:{msgid}", sender, text, channel=CHANNEL
        )
        if message_id is None:
            logger.info("wecom kf message %s already received; not processed again", msgid)
            return None
        self.state.apply_firm(sender, external_userid)
        self.process.set()
        return message_id

    def _servicer_wrote(self, msgid: str, open_kfid: str, external: str, servicer: str, text: str) -> None:
        """A 接待人员 wrote in the WeCom client: the owner has it already; keep it in the transcript."""
        sender = sender_id(open_kfid, external)
        if not text.strip() or not self.services.store.first_time(f"wecomkf:msg:{msgid}"):
            return
        escs = self.services.escalations
        liaison = self.services.registry.liaison_by_wecom(servicer) if servicer else None
        esc = escs.open_for(sender)
        if liaison is not None and esc is not None:
            user = {
                "username": liaison["username"],
                "name": liaison["name"],
                "department": liaison["department"],
            }
            try:
                escs.reply(esc["id"], user, text, [])
                return
            except EscalationError as exc:
                logger.info("kf servicer %s message not recorded as a reply: %s", servicer, exc)
        self.services.store.add_message(
            sender, "liaison", text, channel=CHANNEL, author=servicer or None, status="processed"
        )

    # -- events ---------------------------------------------------------------------------------
    async def _event(self, msgid: str, event: dict[str, Any], sent_at: float) -> None:
        if not await self.services.db(self.services.store.first_time, f"wecomkf:evt:{msgid}"):
            return
        kind = event.get("event_type")
        open_kfid, external = str(event.get("open_kfid") or ""), str(event.get("external_userid") or "")
        if (
            kind == "enter_session"
            and event.get("welcome_code")
            and open_kfid
            and external
            and ":" not in external
        ):
            if self.clock() - sent_at > WELCOME_WINDOW_S:
                logger.info("wecom kf welcome_code of %s expired before it was read", external)
                return
            await self._welcome(open_kfid, external, str(event["welcome_code"]))
        elif kind == "msg_send_fail" and open_kfid and external:
            reason = FAIL_TYPES.get(int(event.get("fail_type") or 0), "未知原因")
            await self.report(
                sender_id(open_kfid, external),
                f"微信客服消息发送失败（fail_type {event.get('fail_type')}：{reason}），msgid {event.get('fail_msgid')}",
            )
        else:
            logger.info("wecom kf event %s: %s", kind, event)

    async def _welcome(self, open_kfid: str, external: str, code: str) -> None:
        """The bot's greeting (with numbered options), stored and sent with the event's one-time code."""
        sender = sender_id(open_kfid, external)
        replies: list[dict[str, Any]] = []
        if await self.services.db(self.services.escalations.open_for, sender) is None:
            try:
                replies = [r.as_dict() for r in await self.services.rasa.send(sender, GREET, CHANNEL)]
            except Exception as exc:  # noqa: BLE001 - Rasa down: the plain welcome still goes out
                logger.warning("greeting for %s from Rasa failed: %s", sender, exc)
        replies = replies or [{"text": WELCOME}]
        pieces = split_text("\n\n".join(render(r) for r in replies))
        await self.services.db(
            self.services.store.finish_turn,
            None,
            sender,
            CHANNEL,
            replies,
            [{"kind": "kfevent", "target": code, "text": pieces[0]}],
        )
        await self.services.db(self.state.apply_firm, sender, external)
        self.outbox.wake.set()

    # -- outbound -------------------------------------------------------------------------------
    def deliveries(self, sender: str, channel: str, replies: list[dict[str, Any]]) -> list[dict[str, str]]:  # noqa: ARG002 - an OutboundBuilder
        """Outbound rows for a 微信客服 conversation (the ``wecomkf`` builder): a turn's replies in as few
        messages as fit, since WeCom allows 5 per message of the customer."""
        parsed = parse_sender(sender)
        texts = [render(r) for r in replies if r.get("text")]
        if parsed is None or not texts:
            return []
        target = f"{parsed[0]}:{parsed[1]}"
        return [{"kind": "kf", "target": target, "text": piece} for piece in split_text("\n\n".join(texts))]

    async def on_send_failed(self, row: OutboundRow, exc: Exception) -> None:
        """The outbox gave up on a row: a 微信客服 reply that did not arrive is reported in the case."""
        if row["kind"] not in KF_KINDS:
            return
        errcode = getattr(exc, "errcode", None)
        reason = UNDELIVERABLE.get(errcode, str(exc)[:160]) if isinstance(errcode, int) else str(exc)[:160]
        if row["kind"] == "kfevent":
            logger.warning("wecom kf welcome not sent (errcode %s): %s", errcode, reason)
            return
        code = f"errcode {errcode}" if errcode is not None else type(exc).__name__
        await self.report(f"{KF_PREFIX}:{row['target']}", f"{code}：{reason}。未送达：{row['text'][:100]}")

    async def report(self, sender: str, detail: str) -> None:
        """A delivery failure: an event ``delivery_failed`` in the conversation's case and a WeCom notice
        to its liaison; without a case, a warning in the log (the message itself stays stored)."""
        esc = await self.services.db(
            self.services.escalations.record_event, sender, "delivery_failed", "wecom", detail
        )
        if esc is None:
            logger.warning("wecom kf delivery to %s failed (no case to report it in): %s", sender, detail)
            return
        await self.services.notify(esc, "delivery_failed")
