"""WeCom as a channel: inbound messages become stored turns, replies become outbound rows.

Conversations are ``wecom:<chatid>`` for group chats (channel ``wecom-chat``, or ``wecom-bot`` for
智能机器人 @-mentions) and ``wecom:<userid>`` for direct chats with the app (``wecom-user``).
微信客服 conversations (``wecomkf:…``, gateway/wecom/kf.py) are stored there and processed here too.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.bus import Wake
from gateway.conversation import process, resolve_and_resume
from gateway.data.escalations import EscalationError
from gateway.data.schema import utcnow
from gateway.data.wecom import ConversationUpdate, WeComData
from gateway.services import Services
from gateway.wecom.client import split_text
from gateway.wecom.outbox import Outbox

if TYPE_CHECKING:
    from gateway.wecom.kf import KfChannel

logger = logging.getLogger(__name__)
AIBOT_LIMIT_CHARS = 6000
_COMMAND = re.compile(r"^\s*#(\d+)\s*(.*)$", re.S)
_RESOLVE_WORDS = ("结案", "办结", "解决", "resolve")
ONLY_TEXT = "目前只能处理文字消息，请用文字描述您的问题。"


@dataclass
class Inbound:
    """One inbound WeCom message, whichever callback it came through."""

    key: str
    from_user: str
    text: str
    chat_id: str | None
    channel: str
    response_url: str | None = None


def render(reply: dict[str, Any]) -> str:
    """A reply as WeCom text: the answer, a short 依据 line when the text has none, numbered options."""
    text = str(reply.get("text") or "")
    sources = reply.get("sources") or []
    if sources and "依据" not in text:
        text += "\n依据：" + "；".join(f"答复函 {s['section']} {s['title']}" for s in sources)
    buttons = reply.get("buttons") or []
    if buttons:
        text += "\n" + "  ".join(f"回复{i}：{b['title']}" for i, b in enumerate(buttons, 1))
    return text


def button_choice(data: WeComData, sender_id: str, text: str) -> str:
    """'1' answers the first option of the bot's last message (WeCom text has no buttons)."""
    if not re.fullmatch(r"\s*\d{1,2}\s*", text):
        return text
    buttons = data.last_bot_buttons(sender_id)
    index = int(text) - 1
    return str(buttons[index]["payload"]) if 0 <= index < len(buttons) else text


class WeComChannel:
    """Inbound acceptance and processing, outbound building and liaison notification for WeCom."""

    def __init__(self, services: Services, outbox: Outbox) -> None:
        self.services, self.outbox = services, outbox
        self.data = WeComData(services.store)
        self.wake = Wake()
        self.kf: KfChannel | None = None  # 微信客服, sharing this worker and outbox

    # -- outbound -----------------------------------------------------------------------------
    def deliveries(self, sender_id: str, channel: str, replies: list[dict[str, Any]]) -> list[dict[str, str]]:
        """Outbound rows for replies to a WeCom conversation (registered as the ``wecom`` builder)."""
        target = sender_id.split(":", 1)[1]
        texts = [render(r) for r in replies if r.get("text")]
        if not texts:
            return []
        if channel == "wecom-bot":
            url = self._take_response_url(sender_id)
            if url:
                combined = "\n\n".join(texts)
                return [{"kind": "aibot", "target": url, "text": combined[:AIBOT_LIMIT_CHARS]}]
            key = self._webhook_key(target)
            kind, target = ("webhook", key) if key else ("chat", target)
        else:
            kind = "chat" if channel == "wecom-chat" else "user"
        return [
            {"kind": kind, "target": target, "text": piece} for text in texts for piece in split_text(text)
        ]

    def _take_response_url(self, sender_id: str) -> str | None:
        """The 智能机器人 response_url of the conversation's latest message: usable once, for an hour."""
        taken = self.data.take_reply_url(sender_id)
        if taken is None:
            return None
        at = taken["at"]
        fresh = at is not None and (utcnow() - at).total_seconds() < 3300
        return taken["url"] if fresh else None

    def _webhook_key(self, chat_id: str) -> str | None:
        return self.data.webhook_key(chat_id)

    # -- notifications ------------------------------------------------------------------------
    async def notify(self, esc: Mapping[str, Any], event: str) -> None:
        """Tell the liaison(s) in WeCom about a new escalation or a new owner message."""
        await self.services.db(self._notify, esc, event)

    def _notify(self, esc: Mapping[str, Any], event: str) -> None:
        registry = self.services.registry
        names = [esc.get("claimed_by") or esc.get("liaison_username")]
        userids = [
            u["wecom_userid"]
            for u in (registry.liaison(n) for n in names if n)
            if u and u.get("wecom_userid")
        ]
        if not userids and not esc.get("liaison_username"):
            userids = registry.department_wecom_ids(esc.get("department") or "")
        if not userids:
            return
        firm = esc.get("firm_name") or "未登记企业"
        link = f"{self.services.settings.gateway_url}/console#esc-{esc['id']}"
        if event == "created":
            text = f"【惠企通·转人工】工单#{esc['id']}\n企业：{firm}\n问题：{esc.get('question') or '（无）'}\n处理：{link}"
        elif event == "delivery_failed":
            text = f"【惠企通】工单#{esc['id']}（{firm}）的回复未能送达企业，原因见控制台：{link}"
        else:
            text = f"【惠企通】工单#{esc['id']}（{firm}）有企业新消息，请到控制台查看：{link}"
        self.outbox.enqueue([{"kind": "user", "target": uid, "text": text} for uid in userids])

    # -- inbound ------------------------------------------------------------------------------
    def accept(self, msg: Inbound) -> int | None:
        """Persist an inbound message exactly once (by its WeCom key); None for a retry or a liaison's
        message handled here. Processing happens later, in :meth:`run`."""
        liaison = self.services.registry.liaison_by_wecom(msg.from_user)
        sender_id = f"wecom:{msg.chat_id or msg.from_user}"
        if liaison is not None and self._liaison_message(liaison, msg, sender_id):
            return None
        text = button_choice(self.data, sender_id, msg.text)
        message_id = self.services.store.add_message_once(msg.key, sender_id, text, channel=msg.channel)
        if message_id is None:
            logger.info("wecom message %s already received; not processed again", msg.key)
            return None
        values: ConversationUpdate = {}
        if msg.chat_id:
            values["firm_uscc"] = self.services.registry.firm_for_chat(msg.chat_id)
        if msg.response_url:
            values["reply_url"], values["reply_url_at"] = msg.response_url, utcnow()
        self.data.update_conversation(sender_id, values)
        self.wake.set()
        return message_id

    def _liaison_message(self, liaison: dict[str, Any], msg: Inbound, sender_id: str) -> bool:
        """A liaison writing in WeCom: in a group with an open case it is the liaison's reply; in a
        direct chat, ``#<id> text`` replies to case <id> and ``#<id> 结案`` resolves it. True when handled."""
        user = {"username": liaison["username"], "name": liaison["name"], "department": liaison["department"]}
        escs = self.services.escalations
        if msg.chat_id:
            esc = escs.open_for(sender_id)
            if esc is None or not escs.visible_to(esc, user):
                return False  # an ordinary group member message
            if not self.services.store.first_time(msg.key):
                return True
            try:
                escs.reply(esc["id"], user, msg.text, [])  # already visible in the group: nothing to send
            except EscalationError as exc:
                logger.info("liaison %s message in %s not recorded: %s", liaison["username"], sender_id, exc)
            return True
        command = _COMMAND.match(msg.text)
        if not self.services.store.first_time(msg.key):
            return True
        if command is None:
            mine = escs.page_for(user, "all", limit=10)["items"]
            lines = [
                f"#{e['id']} {e.get('firm_name') or '未登记企业'}：{(e.get('question') or '')[:30]}"
                for e in mine
            ]
            help_text = "回复企业请发送“#工单号 内容”，结案发送“#工单号 结案”。" + (
                "\n待办：\n" + "\n".join(lines) if lines else ""
            )
            self.outbox.enqueue([{"kind": "user", "target": msg.from_user, "text": help_text}])
            return True
        esc_id, body = int(command.group(1)), command.group(2).strip()
        try:
            if body in _RESOLVE_WORDS:
                self.services.spawn_threadsafe(self._resolve(esc_id, user), f"wecom-resolve-{esc_id}")
            elif body:
                esc = escs.require(esc_id, user)
                escs.reply(
                    esc_id,
                    user,
                    body,
                    self.services.deliveries(esc["sender_id"], esc["channel"], [{"text": body}]),
                )
                self.outbox.wake.set()
        except EscalationError as exc:
            self.outbox.enqueue([{"kind": "user", "target": msg.from_user, "text": f"工单#{esc_id}：{exc}"}])
        return True

    async def _resolve(self, esc_id: int, user: dict[str, str]) -> None:
        try:
            await resolve_and_resume(self.services, esc_id, user)
        except EscalationError as exc:
            logger.info("resolve from WeCom refused: %s", exc)
        self.outbox.wake.set()

    async def run(self) -> None:
        """Process stored WeCom messages forever (also those left by a process that died): those of every
        channel whose name starts with ``wecom``, 微信客服 (``wecomkf``) included."""
        await self.services.db(self.services.store.requeue_processing, "wecom")
        while True:
            try:
                for row in await self.services.db(self.services.store.claim_stored, "wecom"):
                    await process(self.services, row["id"], row["sender_id"], row["text"], row["channel"])
                    self.outbox.wake.set()
            except Exception:
                logger.exception("wecom inbound pass failed")
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
