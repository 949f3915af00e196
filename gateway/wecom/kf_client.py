"""The 微信客服 (kf) API: the few ``cgi-bin/kf/*`` calls 惠企通 makes, over httpx.

wechatpy 1.8 has no kf client, so this class posts the JSON itself and takes its access token from
wechatpy's enterprise client (cached, refetched once when WeCom says it is invalid or expired).
"""

from __future__ import annotations

from typing import Any

import httpx
from wechatpy.exceptions import WeChatClientException

from gateway.wecom.client import WeComClient
from huiqitong.settings import Settings

SYNC_LIMIT = 1000  # kf/sync_msg's documented default and maximum
INVALID_MSG_TOKEN = 95007  # the callback's Token is unknown or older than its 10 minutes
SESSION_STATE_INVALID = 95018  # the session's state does not let the API send (taken by a person, or ended)
_STALE_ACCESS_TOKEN = (40001, 40014, 42001)
# Errcodes with which sending the same message again cannot succeed: the row fails at once and the
# failure is reported in the case. The text says why, for the liaison.
UNDELIVERABLE: dict[int, str] = {
    SESSION_STATE_INVALID: "会话状态不允许接口发送（已由接待人员在企业微信接待，或会话已结束/超过48小时）",
    95001: "已达回复条数上限（企业每收到客户一条消息，最多可回复5条）",
    95000: "客服账号 open_kfid 不合法",
    95013: "会话已结束",
    44004: "消息内容为空",
    45002: "消息内容超长",
    40008: "消息类型不合法",
    40058: "参数不合法（欢迎语 code 已使用或已过期）",
}


class KfError(WeChatClientException):
    """A kf/* endpoint answered a non-zero errcode."""


class KfClient:
    """kf/sync_msg, kf/send_msg, kf/send_msg_on_event, kf/service_state/get and kf/add_contact_way.

    Args:
        api_base: WeCom's API host (``WECOM_API_BASE``; tests point it at a local fake).
        tokens: the wechatpy client whose access token these calls use.
        transport: an httpx transport (tests).
    """

    def __init__(
        self,
        api_base: str,
        tokens: WeComClient,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base = api_base.rstrip("/")
        self.tokens = tokens
        self.http = httpx.Client(timeout=timeout, transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings, app_client: WeComClient | None = None) -> KfClient:
        """The client for WECOM_KF_SECRET (the self-built app's client when the secret is the app's)."""
        secret = settings.wecom_kf_secret or settings.wecom_secret
        if app_client is not None and secret == settings.wecom_secret:
            return cls(settings.wecom_api_base, app_client)
        return cls(
            settings.wecom_api_base, WeComClient(settings.wecom_api_base, settings.wecom_corp_id, secret)
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``cgi-bin/<path>`` and return the answer.

        Raises:
            KfError: WeCom answered a non-zero errcode.
            httpx.HTTPError: the request failed or WeCom answered an HTTP error.
        """
        for attempt in range(2):
            resp = self.http.post(
                f"{self.base}/{path}", params={"access_token": self.tokens.access_token}, json=body
            )
            resp.raise_for_status()
            data: dict[str, Any] = resp.json()
            code = int(data.get("errcode") or 0)
            if code in _STALE_ACCESS_TOKEN and attempt == 0:
                self.tokens.fetch_access_token()
                continue
            if code:
                raise KfError(code, str(data.get("errmsg") or ""))
            return data
        raise AssertionError("unreachable")

    def sync_msg(self, open_kfid: str, cursor: str, token: str, limit: int = SYNC_LIMIT) -> dict[str, Any]:
        """One page of a service account's messages and events after ``cursor`` (last 3 days only):
        ``msg_list``, ``next_cursor`` and ``has_more``."""
        body: dict[str, Any] = {"open_kfid": open_kfid, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        return self.call("kf/sync_msg", body)

    def send_text(self, open_kfid: str, external_userid: str, text: str) -> str:
        """Send a text to a customer; returns WeCom's msgid."""
        body = {
            "touser": external_userid,
            "open_kfid": open_kfid,
            "msgtype": "text",
            "text": {"content": text},
        }
        return str(self.call("kf/send_msg", body).get("msgid") or "")

    def send_on_event(self, code: str, text: str) -> str:
        """Answer an event with its one-time code (the welcome of ``enter_session``); returns the msgid."""
        body = {"code": code, "msgtype": "text", "text": {"content": text}}
        return str(self.call("kf/send_msg_on_event", body).get("msgid") or "")

    def service_state(self, open_kfid: str, external_userid: str) -> tuple[int, str]:
        """The session's state (0 new, 1 bot, 2 queued, 3 a person, 4 ended) and its 接待人员."""
        data = self.call("kf/service_state/get", {"open_kfid": open_kfid, "external_userid": external_userid})
        return int(data.get("service_state") or 0), str(data.get("servicer_userid") or "")

    def contact_link(self, open_kfid: str, scene: str = "") -> str:
        """The 客服链接 of a service account (with ``scene`` reported back in ``enter_session``)."""
        body = {"open_kfid": open_kfid, **({"scene": scene} if scene else {})}
        return str(self.call("kf/add_contact_way", body)["url"])
