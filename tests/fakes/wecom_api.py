"""A local fake of WeCom's server API (``https://qyapi.weixin.qq.com/cgi-bin/``) and its callbacks.

``FakeWeCom`` answers the endpoints 惠企通 uses (gettoken, message/send, appchat/send, webhook/send,
aibot/response, and 微信客服's kf/sync_msg, kf/send_msg, kf/send_msg_on_event, kf/service_state/get|trans,
kf/add_contact_way) the way WeCom documents them, records every call, and drops messages over WeCom's
rate limits silently (errcode 0) just as WeCom does, so tests can assert that nothing was dropped.
``FakeWeComServer`` serves it on a free local port. The ``*_callback``/``*_params``/``*_xml`` builders
make inbound requests as WeCom would send them, encrypted with wechatpy's own crypto.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from xml.etree import ElementTree

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

CORP_ID = "wwfakecorp000001"
CORP_SECRET = "fake-corp-secret"
AGENT_ID = 1000002
WEBHOOK_KEY = "fake-webhook-key"
KF_SECRET = "fake-kf-secret"  # of the app listed under 「微信客服-可调用接口的应用」
OPEN_KFID = "wkFakeKfAccount0000000001"
SERVICER = "kf.servicer"  # a 接待人员 of OPEN_KFID

KINDS = ("user", "chat", "webhook", "aibot", "kf")

_ERRMSG = {
    0: "ok",
    40001: "invalid credential",
    40008: "invalid message type",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40056: "invalid agentid",
    40058: "invalid response_code",
    41001: "access_token missing",
    42001: "access_token expired",
    44004: "empty content",
    45002: "content size out of limit",
    45009: "api freq out of limit",
    47001: "data format error",
    48002: "api forbidden",
    95000: "invalid open_kfid",
    95001: "send msg count limit",
    95007: "invalid msg token",
    95014: "invalid servicer",
    95016: "service state transition not allowed",
    95018: "send msg session status invalid",
    93000: "invalid webhook url",
    500: "internal server error",
}
# UTF-8 byte limits of ``content`` per (kind, msgtype), as WeCom documents them.
_CONTENT_LIMITS = {
    ("user", "text"): 2048,
    ("user", "markdown"): 2048,
    ("chat", "text"): 2048,
    ("chat", "markdown"): 2048,
    ("webhook", "text"): 2048,
    ("webhook", "markdown"): 4096,
    ("aibot", "markdown"): 20480,
}
# (window seconds, max delivered) per receiver; WeCom drops the excess without an error.
_RATE_LIMITS = {
    "user": ((60.0, 30), (3600.0, 1000)),
    "chat": ((60.0, 20),),
    "webhook": ((60.0, 20),),
}
_ENDPOINTS = {  # path under /cgi-bin -> (HTTP method, kind of message or "" for none)
    "gettoken": ("GET", ""),
    "message/send": ("POST", "user"),
    "appchat/send": ("POST", "chat"),
    "webhook/send": ("POST", "webhook"),
    "aibot/response": ("POST", "aibot"),
    "kf/sync_msg": ("POST", "kf"),
    "kf/send_msg": ("POST", "kf"),
    "kf/send_msg_on_event": ("POST", "kf"),
    "kf/service_state/get": ("POST", "kf"),
    "kf/service_state/trans": ("POST", "kf"),
    "kf/add_contact_way": ("POST", "kf"),
}


def _error(errcode: int, errmsg: str = "") -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": errmsg or _ERRMSG.get(errcode, "error")}


@dataclass(frozen=True)
class Call:
    """One request the fake answered.

    ``dropped`` is True when WeCom would have accepted the message (errcode 0) but not delivered it
    to at least one receiver (``dropped_targets``) because of a rate limit.
    """

    method: str
    path: str
    params: dict[str, str]
    json: Any
    response: dict[str, Any]
    dropped: bool
    time: float
    status: int = 200
    dropped_targets: tuple[str, ...] = ()

    @property
    def errcode(self) -> int | None:
        """The ``errcode`` of the answer (None if it had none)."""
        code = self.response.get("errcode")
        return None if code is None else int(code)


@dataclass
class _Failure:
    suffix: str
    errcode: int
    errmsg: str
    remaining: int


@dataclass
class _Delay:
    suffix: str
    seconds: float
    remaining: int
    skip: int


@dataclass
class _Outcome:
    response: dict[str, Any]
    status: int = 200
    dropped_targets: tuple[str, ...] = ()
    body: Any = None


# -- 微信客服 (kf/*) ---------------------------------------------------------------------------------
# As WeCom documents them (developer.work.weixin.qq.com/document/path/94670 读取消息, 94677 发送消息,
# 95122 发送欢迎语等事件响应消息, 94698 分配客服会话, 94665 获取客服账号链接).
KF_MSG_TOKEN_TTL_S = 600.0  # a callback's Token is good for sync_msg for 10 minutes
KF_HISTORY_S = 3 * 86400.0  # sync_msg reads the last 3 days only
KF_SESSION_S = 48 * 3600.0  # a session ends 48 h after the customer's last message
KF_REPLIES_PER_MESSAGE = 5  # API messages allowed per message of the customer
KF_CODE_TTL_S = 20.0  # a welcome_code / msg_code may be used once, within 20 s
KF_SYNC_LIMIT = 1000
# State → the states kf/service_state/trans may change it to (4 "ended / not started" allows none).
KF_TRANSITIONS = {0: {1, 2, 3}, 1: {2, 3}, 2: {3}, 3: {3, 4}, 4: set()}
KF_SENDABLE = (0, 1)  # 未处理 and 由智能助手接待: only then may the API send
ORIGIN_CUSTOMER, ORIGIN_EVENT, ORIGIN_SERVICER = 3, 4, 5
_SCENE = re.compile(r"[0-9a-zA-Z_-]{0,32}")


@dataclass
class _KfSession:
    state: int = 4
    servicer: str = ""
    last_customer_at: float | None = None
    last_api_at: float | None = None
    welcomed_at: float | None = None
    replies: int = 0  # API messages since the customer's last message


@dataclass
class _KfCode:
    open_kfid: str
    external_userid: str
    issued: float
    welcome: bool
    used: bool = False


class FakeKf:
    """The 微信客服 side of ``FakeWeCom``: service accounts, sessions, the message log ``kf/sync_msg``
    pages through with opaque cursors, and what reached customers.

    Test controls (``customer_says``, ``enter_session``, ``servicer_says``, ``new_msg_token``,
    ``set_state``) play WeChat users, 接待人员 and the callback; ``sent()`` lists what customers got.
    ``page_size`` makes ``sync_msg`` return fewer items than asked (WeCom may, and says so).
    """

    def __init__(self, clock: Callable[[], float], lock: threading.RLock) -> None:
        self.clock = clock
        self._lock = lock
        self.page_size = KF_SYNC_LIMIT
        self.reset()

    def reset(self) -> None:
        """One account (``OPEN_KFID`` with 接待人员 ``SERVICER``), no messages, sessions, tokens or codes."""
        with self._lock:
            self.accounts: dict[str, set[str]] = {OPEN_KFID: {SERVICER}}
            self.log: list[dict[str, Any]] = []
            self.delivered: list[
                tuple[str, str, str, str]
            ] = []  # (open_kfid, external_userid, content, endpoint)
            self._sessions: dict[tuple[str, str], _KfSession] = {}
            self._msg_tokens: dict[str, float] = {}
            self._cursors: dict[str, int] = {}
            self._codes: dict[str, _KfCode] = {}
            self.page_size = KF_SYNC_LIMIT

    # -- playing WeChat users, 接待人员 and WeCom's callback -------------------------------------------

    def add_account(self, open_kfid: str | None = None, servicers: Iterable[str] = (SERVICER,)) -> str:
        """Create a service account (random open_kfid unless given); returns its open_kfid."""
        open_kfid = open_kfid or "wk" + secrets.token_hex(15)
        with self._lock:
            self.accounts[open_kfid] = set(servicers)
        return open_kfid

    def customer_says(
        self,
        external_userid: str,
        content: str,
        open_kfid: str = OPEN_KFID,
        msgtype: str = "text",
        at: float | None = None,
    ) -> str:
        """A WeChat user writes to the account (a text, or ``msgtype`` image/voice/... without text);
        returns the msgid. A session that ended starts again (state 0) and the 5-reply quota renews."""
        with self._lock:
            self._account(open_kfid)
            now = self.clock() if at is None else at
            session = self._session(open_kfid, external_userid)
            if session.state == 4:
                session.state, session.servicer = 0, ""
            session.last_customer_at, session.replies = now, 0
            body: dict[str, Any] = (
                {"text": {"content": content}}
                if msgtype == "text"
                else {msgtype: {"media_id": secrets.token_hex(16)}}
            )
            return self._append(
                {
                    "open_kfid": open_kfid,
                    "external_userid": external_userid,
                    "send_time": int(now),
                    "origin": ORIGIN_CUSTOMER,
                    "msgtype": msgtype,
                    **body,
                }
            )

    def enter_session(
        self, external_userid: str, open_kfid: str = OPEN_KFID, scene: str = "", scene_param: str = ""
    ) -> str | None:
        """A WeChat user opens the account's chat (客服链接 or QR code); returns the welcome_code, given
        only when the user got no welcome and no message from the API in the last 48 hours."""
        with self._lock:
            self._account(open_kfid)
            now = self.clock()
            session = self._session(open_kfid, external_userid)
            recent = [
                t
                for t in (session.welcomed_at, session.last_api_at)
                if t is not None and now - t < KF_SESSION_S
            ]
            code = None if recent else "wc" + secrets.token_urlsafe(24)
            event: dict[str, Any] = {
                "event_type": "enter_session",
                "open_kfid": open_kfid,
                "external_userid": external_userid,
                "scene": scene,
                "scene_param": scene_param,
            }
            if code:
                self._codes[code] = _KfCode(open_kfid, external_userid, now, welcome=True)
                event["welcome_code"] = code
            self._append({"send_time": int(now), "origin": ORIGIN_EVENT, "msgtype": "event", "event": event})
            return code

    def servicer_says(
        self, external_userid: str, content: str, servicer: str = SERVICER, open_kfid: str = OPEN_KFID
    ) -> str:
        """A 接待人员 writes from the WeCom client: the session becomes theirs (state 3); returns the msgid."""
        with self._lock:
            session = self._session(open_kfid, external_userid)
            session.state, session.servicer = 3, servicer
            self.delivered.append((open_kfid, external_userid, content, "client"))
            return self._append(
                {
                    "open_kfid": open_kfid,
                    "external_userid": external_userid,
                    "send_time": int(self.clock()),
                    "origin": ORIGIN_SERVICER,
                    "servicer_userid": servicer,
                    "msgtype": "text",
                    "text": {"content": content},
                }
            )

    def new_msg_token(self) -> str:
        """The Token of a ``kf_msg_or_event`` callback (good for sync_msg for 10 minutes)."""
        token = "ENC" + secrets.token_urlsafe(32)
        with self._lock:
            self._msg_tokens[token] = self.clock()
        return token

    def set_state(
        self, external_userid: str, state: int, servicer: str = "", open_kfid: str = OPEN_KFID
    ) -> None:
        """Put a session in ``state`` directly (as the 微信客服 admin or a 接待人员 would)."""
        with self._lock:
            session = self._session(open_kfid, external_userid)
            session.state, session.servicer = state, servicer if state == 3 else ""

    def state(self, external_userid: str, open_kfid: str = OPEN_KFID) -> tuple[int, str]:
        """(service_state, servicer_userid) of a session."""
        with self._lock:
            session = self._session(open_kfid, external_userid)
            return session.state, session.servicer

    def sent(self, external_userid: str | None = None) -> list[str]:
        """What the API delivered to customers (kf/send_msg and kf/send_msg_on_event), in order."""
        with self._lock:
            return [
                content
                for _, user, content, via in self.delivered
                if via != "client" and external_userid in (None, user)
            ]

    # -- the endpoints ----------------------------------------------------------------------------

    def answer(self, path: str, body: Any) -> dict[str, Any]:
        """The answer of ``cgi-bin/<path>`` to ``body`` (authorization already checked)."""
        if not isinstance(body, dict):
            return _error(47001)
        handler = {
            "kf/sync_msg": self._sync_msg,
            "kf/send_msg": self._send_msg,
            "kf/send_msg_on_event": self._send_on_event,
            "kf/service_state/get": self._state_get,
            "kf/service_state/trans": self._state_trans,
            "kf/add_contact_way": self._add_contact_way,
        }[path]
        return handler(body)

    def _sync_msg(self, body: dict[str, Any]) -> dict[str, Any]:
        now = self.clock()
        token = body.get("token")
        if token:  # optional; without one WeCom limits the calls strictly
            issued = self._msg_tokens.get(str(token))
            if issued is None or now - issued > KF_MSG_TOKEN_TTL_S:
                return _error(95007)
        open_kfid = body.get("open_kfid")
        if open_kfid is not None and open_kfid not in self.accounts:
            return _error(95000)
        limit = body.get("limit", KF_SYNC_LIMIT)
        if not isinstance(limit, int) or not 1 <= limit <= KF_SYNC_LIMIT:
            return _error(40058, "invalid limit")
        cursor = str(body.get("cursor") or "")
        if cursor and cursor not in self._cursors:
            return _error(40058, "invalid cursor")
        position = self._cursors.get(cursor, 0)
        readable = [
            i
            for i in range(position, len(self.log))
            if now - self.log[i]["send_time"] <= KF_HISTORY_S
            and open_kfid in (None, self._kfid_of(self.log[i]))
        ]
        page = readable[: min(limit, self.page_size)]
        after = page[-1] + 1 if page else (readable[-1] + 1 if readable else max(position, len(self.log)))
        next_cursor = secrets.token_urlsafe(12)
        self._cursors[next_cursor] = after
        return {
            "errcode": 0,
            "errmsg": "ok",
            "next_cursor": next_cursor,
            "has_more": int(len(readable) > len(page)),
            "msg_list": [dict(self.log[i]) for i in page],
        }

    def _send_msg(self, body: dict[str, Any]) -> dict[str, Any]:
        refusal = self._content_refusal(body)
        if refusal:
            return refusal
        open_kfid, user = str(body.get("open_kfid") or ""), str(body.get("touser") or "")
        if open_kfid not in self.accounts:
            return _error(95000)
        now = self.clock()
        session = self._session(open_kfid, user)
        if session.state != 4 and (
            session.last_customer_at is None or now - session.last_customer_at > KF_SESSION_S
        ):
            session.state, session.servicer = (
                4,
                "",
            )  # 48 h without a message of the customer: the session is over
        if session.state not in KF_SENDABLE:
            return _error(95018)
        if session.replies >= KF_REPLIES_PER_MESSAGE:
            return _error(95001)
        session.state, session.last_api_at = 1, now
        session.replies += 1
        self.delivered.append((open_kfid, user, _content_of(body), "send_msg"))
        return {"errcode": 0, "errmsg": "ok", "msgid": str(body.get("msgid") or secrets.token_hex(16))}

    def _send_on_event(self, body: dict[str, Any]) -> dict[str, Any]:
        refusal = self._content_refusal(body)
        if refusal:
            return refusal
        code = self._codes.get(str(body.get("code") or ""))
        now = self.clock()
        if code is None or code.used or now - code.issued > KF_CODE_TTL_S:
            return _error(40058, "invalid code")
        code.used = True
        if code.welcome:
            self._session(code.open_kfid, code.external_userid).welcomed_at = now
        self.delivered.append((code.open_kfid, code.external_userid, _content_of(body), "send_msg_on_event"))
        return {"errcode": 0, "errmsg": "ok", "msgid": str(body.get("msgid") or secrets.token_hex(16))}

    def _state_get(self, body: dict[str, Any]) -> dict[str, Any]:
        open_kfid = str(body.get("open_kfid") or "")
        if open_kfid not in self.accounts:
            return _error(95000)
        session = self._session(open_kfid, str(body.get("external_userid") or ""))
        return {
            "errcode": 0,
            "errmsg": "ok",
            "service_state": session.state,
            "servicer_userid": session.servicer if session.state == 3 else "",
        }

    def _state_trans(self, body: dict[str, Any]) -> dict[str, Any]:
        open_kfid, user = str(body.get("open_kfid") or ""), str(body.get("external_userid") or "")
        if open_kfid not in self.accounts:
            return _error(95000)
        session = self._session(open_kfid, user)
        target = body.get("service_state")
        if target not in KF_TRANSITIONS[session.state]:
            return _error(95016)
        servicer = str(body.get("servicer_userid") or "")
        if target == 3 and servicer not in self.accounts[open_kfid]:
            return _error(95014)  # not a 接待人员 of the account who is 正在接待
        session.state, session.servicer = int(target), servicer if target == 3 else ""
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if target in (3, 4):  # for a 转接语 / 结束语 through send_msg_on_event
            code = "mc" + secrets.token_urlsafe(24)
            self._codes[code] = _KfCode(open_kfid, user, self.clock(), welcome=False)
            answer["msg_code"] = code
        return answer

    def _add_contact_way(self, body: dict[str, Any]) -> dict[str, Any]:
        open_kfid = str(body.get("open_kfid") or "")
        if open_kfid not in self.accounts:
            return _error(95000)
        scene = str(body.get("scene") or "")
        if not _SCENE.fullmatch(scene):
            return _error(40058, "invalid scene")
        link = f"https://work.weixin.qq.com/kf/kfc{hashlib.sha1(open_kfid.encode()).hexdigest()[:14]}"
        return {
            "errcode": 0,
            "errmsg": "ok",
            "url": link + (f"?enc_scene=ENC{secrets.token_urlsafe(9)}" if scene else ""),
        }

    # -- helpers ----------------------------------------------------------------------------------

    def _account(self, open_kfid: str) -> None:
        if open_kfid not in self.accounts:
            raise ValueError(f"no service account {open_kfid!r}: add_account() first")

    def _session(self, open_kfid: str, external_userid: str) -> _KfSession:
        return self._sessions.setdefault((open_kfid, external_userid), _KfSession())

    def _append(self, item: dict[str, Any]) -> str:
        msgid = secrets.token_hex(16)
        self.log.append({"msgid": msgid, **item})
        return msgid

    @staticmethod
    def _kfid_of(item: dict[str, Any]) -> str:
        return str(item.get("open_kfid") or (item.get("event") or {}).get("open_kfid") or "")

    @staticmethod
    def _content_refusal(body: dict[str, Any]) -> dict[str, Any] | None:
        if body.get("msgtype") != "text":
            return _error(40008)  # the fake speaks text only (WeCom also takes image, link, msgmenu, ...)
        content = _content_of(body)
        if not content:
            return _error(44004)
        if len(content.encode("utf-8")) > 2048:
            return _error(45002)
        return None


class FakeWeCom:
    """State and FastAPI app (``self.app``) of a fake WeCom API host, safe to use from several threads.

    Args:
        corp_id: the corpid ``gettoken`` accepts.
        secret: the corpsecret ``gettoken`` accepts (its tokens call the app's endpoints).
        kf_secret: the corpsecret of the app that may call kf/* (its tokens call those; the same
            secret as ``secret`` when one app does both).
        agent_id: the agentid ``message/send`` accepts.
        webhook_keys: keys ``webhook/send`` accepts.
        clock: seconds, used for call times and rate-limit windows (tests may pass a fake clock).
    """

    def __init__(
        self,
        corp_id: str = CORP_ID,
        secret: str = CORP_SECRET,
        kf_secret: str = KF_SECRET,
        agent_id: int = AGENT_ID,
        webhook_keys: Iterable[str] = (WEBHOOK_KEY,),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.kf_secret = kf_secret
        self.agent_id = agent_id
        self.webhook_keys = set(webhook_keys)
        self.clock = clock
        self.base_url = ""  # set by FakeWeComServer: http://127.0.0.1:<port>/cgi-bin
        self.calls: list[Call] = []
        self._lock = threading.RLock()
        self._valid_tokens: dict[str, str] = {}  # token -> the secret it was issued for
        self._expired_tokens: set[str] = set()
        self._failures: list[_Failure] = []
        self._delays: list[_Delay] = []
        self._response_codes: dict[str, bool] = {}  # code -> used
        self._delivered_at: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.kf = FakeKf(clock, self._lock)
        self.app = self._build_app()

    # -- test controls -------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Make every issued token expired: the next API call with one answers 42001."""
        with self._lock:
            self._expired_tokens |= set(self._valid_tokens)
            self._valid_tokens.clear()

    def fail_next(self, path_suffix: str, errcode: int, errmsg: str = "", times: int = 1) -> None:
        """Answer the next ``times`` calls of endpoints ending in ``path_suffix`` with ``errcode``.

        ``errcode == 500`` answers HTTP 500 instead of a WeCom error body.

        Raises:
            ValueError: ``path_suffix`` names no endpoint of the fake.
        """
        suffix = path_suffix.strip("/")
        if not any(path.endswith(suffix) for path in _ENDPOINTS):
            raise ValueError(f"no endpoint ends with {path_suffix!r}; known: {sorted(_ENDPOINTS)}")
        with self._lock:
            self._failures.append(_Failure(suffix, errcode, errmsg or _ERRMSG.get(errcode, "error"), times))

    def delay_next(self, path_suffix: str, seconds: float, times: int = 1, skip: int = 0) -> None:
        """Hold ``times`` calls of endpoints ending in ``path_suffix`` for ``seconds`` before answering
        them, after letting ``skip`` calls through (a slow WeCom; the caller may die meanwhile)."""
        suffix = path_suffix.strip("/")
        if not any(path.endswith(suffix) for path in _ENDPOINTS):
            raise ValueError(f"no endpoint ends with {path_suffix!r}; known: {sorted(_ENDPOINTS)}")
        with self._lock:
            self._delays.append(_Delay(suffix, seconds, times, skip))

    def new_response_url(self, code: str | None = None) -> str:
        """Issue an aibot ``response_code`` (random if not given) and return its full response_url."""
        if not self.base_url:
            raise RuntimeError("base_url unknown: serve the fake with FakeWeComServer first")
        code = code or secrets.token_urlsafe(16)
        with self._lock:
            self._response_codes[code] = False
        return f"{self.base_url}/aibot/response?response_code={code}"

    def webhook_url(self, key: str = WEBHOOK_KEY) -> str:
        """The full webhook URL for ``key`` (a group robot's 'Webhook地址')."""
        if not self.base_url:
            raise RuntimeError("base_url unknown: serve the fake with FakeWeComServer first")
        return f"{self.base_url}/webhook/send?key={key}"

    def sent_texts(self, kind: str) -> list[tuple[str, str]]:
        """(target, content) of every delivered text/markdown message of ``kind``, in order.

        ``kind`` is "user" (target: userid), "chat" (chatid), "webhook" (key), "aibot"
        (response_code) or "kf" (external_userid, by kf/send_msg or kf/send_msg_on_event). Rejected
        calls and receivers a rate limit dropped are left out.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if kind == "kf":
            with self._lock:
                return [(user, content) for _, user, content, via in self.kf.delivered if via != "client"]
        out: list[tuple[str, str]] = []
        with self._lock:
            for call in self.calls:
                if call.errcode != 0 or _kind_of(call.path) != kind:
                    continue
                content = _content_of(call.json)
                for target in _targets(kind, call.params, call.json):
                    if target not in call.dropped_targets:
                        out.append((target, content))
        return out

    def token_fetches(self) -> int:
        """How many tokens ``gettoken`` has issued."""
        with self._lock:
            return sum(1 for c in self.calls if c.path.endswith("/gettoken") and c.errcode == 0)

    def reset(self) -> None:
        """Forget calls, tokens, rate-limit windows, pending failures and delays, response codes and the
        微信客服 state."""
        with self._lock:
            self.calls.clear()
            self._valid_tokens.clear()
            self._expired_tokens.clear()
            self._failures.clear()
            self._delays.clear()
            self._response_codes.clear()
            self._delivered_at.clear()
            self.kf.reset()

    # -- HTTP ------------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Fake WeCom API", docs_url=None, redoc_url=None, openapi_url=None)
        for path, (method, _kind) in _ENDPOINTS.items():
            app.add_api_route(f"/cgi-bin/{path}", self._endpoint(path), methods=[method])
        return app

    def _endpoint(self, path: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            """Answer like WeCom's ``/cgi-bin/<path>``."""
            raw = await request.body()
            params = dict(request.query_params)
            with self._lock:
                delay = self._take_delay(path)
            if delay:
                await asyncio.sleep(delay)
            with self._lock:
                outcome = self._answer(path, params, raw)
                self.calls.append(
                    Call(
                        method=request.method,
                        path=f"/cgi-bin/{path}",
                        params=params,
                        json=outcome.body,
                        response=outcome.response,
                        dropped=bool(outcome.dropped_targets),
                        time=self.clock(),
                        status=outcome.status,
                        dropped_targets=outcome.dropped_targets,
                    )
                )
            return JSONResponse(outcome.response, status_code=outcome.status)

        endpoint.__name__ = path.replace("/", "_")
        return endpoint

    def _answer(self, path: str, params: dict[str, str], raw: bytes) -> _Outcome:
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        failure = self._take_failure(path)
        if failure is not None:
            status = 500 if failure.errcode == 500 else 200
            return _Outcome(_error(failure.errcode, failure.errmsg), status=status, body=body)
        if path == "gettoken":
            return _Outcome(self._gettoken(params))
        kind = _ENDPOINTS[path][1]
        refusal = self._authorize(kind, params)
        if refusal is None and kind == "kf":
            return _Outcome(self.kf.answer(path, body), body=body)
        if refusal is None:
            refusal = self._validate(kind, body)
        if refusal is not None:
            return _Outcome(refusal, body=body)
        dropped = tuple(t for t in _targets(kind, params, body) if not self._admit(kind, t))
        response = _error(0)
        if kind == "user":
            response.update(invaliduser="", msgid=secrets.token_urlsafe(24))
        if kind == "aibot":
            self._response_codes[params["response_code"]] = True
        return _Outcome(response, body=body, dropped_targets=dropped)

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if path.endswith(failure.suffix):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _take_delay(self, path: str) -> float:
        for delay in self._delays:
            if path.endswith(delay.suffix):
                if delay.skip:
                    delay.skip -= 1
                    return 0.0
                delay.remaining -= 1
                if delay.remaining <= 0:
                    self._delays.remove(delay)
                return delay.seconds
        return 0.0

    def _gettoken(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("corpid") != self.corp_id:
            return _error(40013)
        secret = params.get("corpsecret")
        if secret not in (self.secret, self.kf_secret):
            return _error(40001)
        token = secrets.token_urlsafe(48)
        self._valid_tokens[token] = str(secret)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _authorize(self, kind: str, params: dict[str, str]) -> dict[str, Any] | None:
        if kind in ("user", "chat", "kf"):
            token = params.get("access_token", "")
            if not token:
                return _error(41001)
            if token in self._expired_tokens:
                return _error(42001)
            if token not in self._valid_tokens:
                return _error(40014)
            # The app's token sends app messages; kf/* takes the token of the app allowed to call it.
            if self._valid_tokens[token] != (self.kf_secret if kind == "kf" else self.secret):
                return _error(48002)
        elif kind == "webhook":
            if params.get("key") not in self.webhook_keys:
                return _error(93000)
        elif kind == "aibot":
            used = self._response_codes.get(params.get("response_code", ""))
            if used is None:
                return _error(40058)
            if used:  # a response_code is good for one reply only
                return _error(40058, "response_code used")
        return None

    def _validate(self, kind: str, body: Any) -> dict[str, Any] | None:
        if not isinstance(body, dict):
            return _error(47001)
        if kind == "user" and body.get("agentid") != self.agent_id:
            return _error(40056)
        limit = _CONTENT_LIMITS.get((kind, str(body.get("msgtype"))))
        if limit is None:
            return _error(40008)
        content = _content_of(body)
        if not content:
            return _error(44004)
        if len(content.encode("utf-8")) > limit:
            return _error(45002)
        return None

    def _admit(self, kind: str, target: str) -> bool:
        """Count a delivery to ``target`` unless a rate limit is full (then WeCom drops it)."""
        limits = _RATE_LIMITS.get(kind, ())
        if not limits:
            return True
        now = self.clock()
        stamps = self._delivered_at[(kind, target)]
        longest = max(window for window, _ in limits)
        while stamps and stamps[0] <= now - longest:
            stamps.popleft()
        for window, most in limits:
            if sum(1 for t in stamps if t > now - window) >= most:
                return False
        stamps.append(now)
        return True


def _kind_of(path: str) -> str:
    return _ENDPOINTS.get(path.removeprefix("/cgi-bin/"), ("", ""))[1]


def _content_of(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    part = body.get(str(body.get("msgtype")))
    return str(part.get("content") or "") if isinstance(part, dict) else ""


def _targets(kind: str, params: dict[str, str], body: Any) -> list[str]:
    if kind == "user":
        users = str(body.get("touser") or "") if isinstance(body, dict) else ""
        return [u for u in users.split("|") if u]
    if kind == "chat":
        return [str(body.get("chatid", ""))] if isinstance(body, dict) else []
    if kind == "webhook":
        return [params.get("key", "")]
    if kind == "aibot":
        return [params.get("response_code", "")]
    return []


class FakeWeComServer:
    """Serve a ``FakeWeCom`` on 127.0.0.1 (free port) in a background thread, as a context manager.

    ``base`` is ``http://127.0.0.1:<port>/cgi-bin`` (no trailing slash); ``fake`` is the state.
    """

    def __init__(self, fake: FakeWeCom | None = None, start_timeout: float = 10.0) -> None:
        self.fake = fake or FakeWeCom()
        self.start_timeout = start_timeout
        self.port = 0
        self.base = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def __enter__(self) -> FakeWeComServer:
        # Bind first and hand uvicorn the socket, so no other process can take the port meanwhile.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}/cgi-bin"
        self.fake.base_url = self.base
        config = uvicorn.Config(
            self.fake.app, host="127.0.0.1", port=self.port, log_level="warning", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="fake-wecom", daemon=True
        )
        self._thread.start()
        try:
            self._wait_until_up()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _wait_until_up(self) -> None:
        assert self._server is not None
        assert self._thread is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError("fake WeCom server exited during start-up")
            if self._server.started:
                try:
                    httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1.0)  # 404 is an answer
                    return
                except httpx.TransportError:
                    pass
            time.sleep(0.02)
        raise RuntimeError(f"fake WeCom server did not answer within {self.start_timeout}s")

    def _stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None


# -- inbound callbacks (WeCom -> us), encrypted with wechatpy's encrypt side ------------------------


def _nonce() -> str:
    return str(secrets.randbelow(10**10))


def _signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    signer = WeChatSigner()  # sha1 over the sorted, concatenated strings: WeCom's msg_signature
    signer.add_data(token, timestamp, nonce, encrypt)
    return str(signer.signature)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_message_xml(
    from_user: str,
    content: str,
    msg_id: int | str,
    agent_id: int = AGENT_ID,
    corp_id: str = CORP_ID,
    chat_id: str | None = None,
    create_time: int | None = None,
) -> str:
    """The plaintext XML of a WeCom text message callback (add ``<ChatId>`` when ``chat_id`` is given)."""
    parts = [
        f"<ToUserName>{_cdata(corp_id)}</ToUserName>",
        f"<FromUserName>{_cdata(from_user)}</FromUserName>",
        f"<CreateTime>{int(time.time()) if create_time is None else create_time}</CreateTime>",
        f"<MsgType>{_cdata('text')}</MsgType>",
        f"<Content>{_cdata(content)}</Content>",
        f"<MsgId>{msg_id}</MsgId>",
        f"<AgentID>{agent_id}</AgentID>",
    ]
    if chat_id is not None:
        parts.append(f"<ChatId>{_cdata(chat_id)}</ChatId>")
    return "<xml>" + "".join(parts) + "</xml>"


def encrypted_callback(
    token: str,
    aes_key: str,
    corp_id: str,
    xml: str,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """Query params (msg_signature, timestamp, nonce) and body of WeCom's POST for the message ``xml``.

    The body has WeCom's shape: ``<xml><ToUserName/><AgentID/><Encrypt/></xml>`` (AgentID copied
    from ``xml`` when it has one).
    """
    crypto = WeChatCrypto(token, aes_key, corp_id)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    produced = ElementTree.fromstring(crypto.encrypt_message(xml, nonce or _nonce(), stamp))
    encrypt = produced.findtext("Encrypt", "")
    params = {
        "msg_signature": produced.findtext("MsgSignature", ""),
        "timestamp": produced.findtext("TimeStamp", ""),
        "nonce": produced.findtext("Nonce", ""),
    }
    try:
        agent_id = ElementTree.fromstring(xml).findtext("AgentID")
    except ElementTree.ParseError:
        agent_id = None
    agent = "" if agent_id is None else f"<AgentID>{_cdata(agent_id)}</AgentID>"
    body = f"<xml><ToUserName>{_cdata(corp_id)}</ToUserName>{agent}<Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
    return params, body.encode("utf-8")


def verify_url_params(
    token: str,
    aes_key: str,
    corp_id: str,
    echo_plain: str,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Query params (msg_signature, timestamp, nonce, echostr) of WeCom's GET that verifies a callback URL.

    A correct handler answers the body ``echo_plain``. Pass the dict as ``params=`` so echostr
    (base64) is URL-encoded.
    """
    key = WeChatCrypto(token, aes_key, corp_id).key  # wechatpy's derivation: b64decode(aes_key + "=")
    echostr = PrpCrypto(key).encrypt(echo_plain, corp_id).decode("ascii")
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or _nonce()
    return {
        "msg_signature": _signature(token, stamp, nonce, echostr),
        "timestamp": stamp,
        "nonce": nonce,
        "echostr": echostr,
    }


def aibot_callback(
    token: str,
    aes_key: str,
    payload: dict[str, Any],
    timestamp: int | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """Query params and JSON body ``{"encrypt": ...}`` of a 智能机器人 callback carrying ``payload``.

    The plaintext is ``json.dumps(payload)``; the receiveid of 智能机器人 callbacks is "".
    """
    key = WeChatCrypto(token, aes_key, "").key
    plain = json.dumps(payload, ensure_ascii=False)
    encrypt = PrpCrypto(key).encrypt(plain, "").decode("ascii")
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or _nonce()
    params = {"msg_signature": _signature(token, stamp, nonce, encrypt), "timestamp": stamp, "nonce": nonce}
    return params, json.dumps({"encrypt": encrypt}).encode("utf-8")


def kf_event_xml(
    token: str, open_kfid: str = OPEN_KFID, corp_id: str = CORP_ID, create_time: int | None = None
) -> str:
    """The plaintext XML of a 微信客服 ``kf_msg_or_event`` callback: no message, only the account that has
    news and the Token to pull it with (encrypt it with ``encrypted_callback``)."""
    return (
        f"<xml><ToUserName>{_cdata(corp_id)}</ToUserName>"
        f"<CreateTime>{int(time.time()) if create_time is None else create_time}</CreateTime>"
        f"<MsgType>{_cdata('event')}</MsgType><Event>{_cdata('kf_msg_or_event')}</Event>"
        f"<Token>{_cdata(token)}</Token><OpenKfId>{_cdata(open_kfid)}</OpenKfId></xml>"
    )
