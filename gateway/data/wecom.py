"""WeCom's data: the options of a conversation's latest bot message, the 智能机器人 response_url and
group-robot webhook keys (``WeComData``), and the durable 微信客服 state (``KfState``): the sync cursor
and callback Token per service account, and the firms that customers (external_userid) are bound to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

import sqlalchemy as sa

from gateway.data.registry import Registry, RegistryError, check_uscc
from gateway.data.schema import (
    conversations,
    messages,
    utcnow,
    wecom_chats,
    wecom_kf_cursors,
    wecom_kf_customers,
)
from gateway.data.store import Store
from gateway.wecom.kf_ids import KF_PREFIX

TOKEN_TTL_S = 600 - 30  # WeCom honours a callback's Token for 10 minutes: stop using it a little before


class Button(TypedDict):
    """One option of a bot message, as stored with it."""

    title: str
    payload: str


class ReplyUrl(TypedDict):
    """A 智能机器人 response_url and when its message arrived."""

    url: str
    at: datetime | None


class ConversationUpdate(TypedDict, total=False):
    """What an inbound WeCom message may set on its conversation."""

    firm_uscc: str | None
    reply_url: str
    reply_url_at: datetime


class WeComData:
    """Reads and writes of WeCom conversations and group chats."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def last_bot_buttons(self, sender_id: str) -> list[Button]:
        """The options of the conversation's latest bot message ([] when it had none)."""
        with self.store.engine.connect() as con:
            row = con.execute(
                sa.select(messages.c.buttons)
                .where(messages.c.sender_id == sender_id, messages.c.role == "bot")
                .order_by(messages.c.id.desc())
                .limit(1)
            ).first()
        buttons: list[Button] = json.loads(row[0]) if row and row[0] else []
        return buttons

    def take_reply_url(self, sender_id: str) -> ReplyUrl | None:
        """The conversation's 智能机器人 response_url, cleared as it is read (WeCom takes it once)."""
        with self.store.tx() as con:
            row = con.execute(
                sa.select(conversations.c.reply_url, conversations.c.reply_url_at).where(
                    conversations.c.sender_id == sender_id
                )
            ).first()
            if not row or not row[0]:
                return None
            con.execute(
                conversations.update()
                .where(conversations.c.sender_id == sender_id)
                .values(reply_url=None, reply_url_at=None)
            )
        return ReplyUrl(url=str(row[0]), at=row[1])

    def webhook_key(self, chat_id: str) -> str | None:
        """The group-robot webhook key bound to a group chat, if any."""
        with self.store.engine.connect() as con:
            row = con.execute(
                sa.select(wecom_chats.c.webhook_key).where(wecom_chats.c.chat_id == chat_id)
            ).first()
        return str(row[0]) if row and row[0] else None

    def update_conversation(self, sender_id: str, values: ConversationUpdate) -> None:
        """Set what an inbound message tells about its conversation (its firm, its response_url)."""
        if not values:
            return
        with self.store.tx() as con:
            con.execute(conversations.update().where(conversations.c.sender_id == sender_id).values(**values))


@dataclass
class Cursor:
    """Where one 微信客服 service account's pull stands."""

    open_kfid: str
    cursor: str
    token: str | None
    token_at: datetime | None

    def fresh_token(self, now: datetime | None = None) -> str | None:
        """The callback Token while WeCom still accepts it."""
        if not self.token or self.token_at is None:
            return None
        return self.token if (now or utcnow()) - self.token_at < timedelta(seconds=TOKEN_TTL_S) else None


class KfState:
    """Reads and writes of the 微信客服 tables."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def cursor(self, open_kfid: str) -> Cursor:
        """The account's cursor ("" before its first pull) and latest Token."""
        with self.store.engine.connect() as con:
            row = (
                con.execute(sa.select(wecom_kf_cursors).where(wecom_kf_cursors.c.open_kfid == open_kfid))
                .mappings()
                .first()
            )
        if row is None:
            return Cursor(open_kfid, "", None, None)
        return Cursor(open_kfid, row["cursor"] or "", row["token"], row["token_at"])

    def _upsert(self, open_kfid: str, **values: Any) -> None:
        def write() -> None:
            with self.store.tx() as con:
                done = con.execute(
                    wecom_kf_cursors.update()
                    .where(wecom_kf_cursors.c.open_kfid == open_kfid)
                    .values(updated_at=utcnow(), **values)
                ).rowcount
                if not done:
                    con.execute(
                        wecom_kf_cursors.insert().values(
                            open_kfid=open_kfid, cursor="", updated_at=utcnow(), **values
                        )
                    )

        self.store.retry(write)

    def save_token(self, open_kfid: str, token: str) -> None:
        """Keep the Token of the latest callback, so a restart can still pull with it."""
        self._upsert(open_kfid, token=token, token_at=utcnow())

    def forget_token(self, open_kfid: str, token: str) -> None:
        """WeCom refused the Token: pull again only when a callback brings a new one."""
        with self.store.tx() as con:
            con.execute(
                wecom_kf_cursors.update()
                .where(wecom_kf_cursors.c.open_kfid == open_kfid, wecom_kf_cursors.c.token == token)
                .values(token=None, token_at=None)
            )

    def save_cursor(self, open_kfid: str, cursor: str) -> None:
        """Record where the pull stands, after the page's messages are stored."""
        self._upsert(open_kfid, cursor=cursor)

    def accounts_with_fresh_tokens(self) -> list[str]:
        """Service accounts a restarted gateway can still pull (their Token is less than 10 minutes old)."""
        since = utcnow() - timedelta(seconds=TOKEN_TTL_S)
        with self.store.engine.connect() as con:
            rows = con.execute(
                sa.select(wecom_kf_cursors.c.open_kfid).where(
                    wecom_kf_cursors.c.token.isnot(None), wecom_kf_cursors.c.token_at > since
                )
            ).all()
        return [r[0] for r in rows]

    # -- customers and firms --------------------------------------------------------------------
    def firm_of(self, external_userid: str) -> str | None:
        """The credit code a customer is bound to."""
        with self.store.engine.connect() as con:
            row = con.execute(
                sa.select(wecom_kf_customers.c.uscc).where(
                    wecom_kf_customers.c.external_userid == external_userid
                )
            ).first()
        return row[0] if row else None

    def apply_firm(self, sender_id: str, external_userid: str) -> str | None:
        """A customer bound to a firm: their conversation ``sender_id`` becomes that firm's (so its cases
        go to its liaison). Returns the firm's credit code, None for an unbound customer."""
        code = self.firm_of(external_userid)
        if code:
            with self.store.tx() as con:
                con.execute(
                    conversations.update()
                    .where(conversations.c.sender_id == sender_id)
                    .values(firm_uscc=code)
                )
        return code

    def bind(self, registry: Registry, external_userid: str, code: str, by: str) -> str:
        """Bind a customer to a registered firm (also their existing 微信客服 conversations); returns the code.

        Raises:
            RegistryError: a malformed or unregistered credit code, or an empty external_userid.
        """
        code = check_uscc(code)
        external_userid = external_userid.strip()
        if not external_userid or len(external_userid) > 128 or ":" in external_userid:
            raise RegistryError("external_userid must be 1-128 characters without ':'")
        if registry.firm(uscc=code) is None:
            raise RegistryError(f"firm {code} is not registered")
        with self.store.tx() as con:
            con.execute(
                wecom_kf_customers.delete().where(wecom_kf_customers.c.external_userid == external_userid)
            )
            con.execute(
                wecom_kf_customers.insert().values(
                    external_userid=external_userid, uscc=code, bound_by=by, bound_at=utcnow()
                )
            )
            con.execute(
                conversations.update()
                .where(
                    conversations.c.sender_id.startswith(f"{KF_PREFIX}:", autoescape=True),
                    conversations.c.sender_id.endswith(f":{external_userid}", autoescape=True),
                )
                .values(firm_uscc=code)
            )
        return code
