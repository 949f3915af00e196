"""Outbound WeCom API: wechatpy's client pointed at WECOM_API_BASE, and text splitting."""

from __future__ import annotations

from typing import Any

import httpx
from wechatpy.enterprise import WeChatClient

TEXT_LIMIT_BYTES = 2048  # WeCom's documented limit for a text message's content


class WeComClient(WeChatClient):
    """wechatpy's enterprise client with a configurable API host (tests point it at a local fake).

    wechatpy caches the access_token in its session and refetches it on 40001/40014/42001.
    """

    def __init__(self, api_base: str, corp_id: str, secret: str, timeout: float = 10.0) -> None:
        super().__init__(corp_id, secret, timeout=timeout)
        self.API_BASE_URL = api_base.rstrip("/") + "/"

    def fetch_access_token(self) -> dict[str, Any]:
        """Fetch a token from the configured host (wechatpy hard-codes the real one)."""
        return self._fetch_access_token(
            url=self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Pieces of ``text`` of at most ``limit`` UTF-8 bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # a single overlong line: cut by characters
            cut = len(line)
            while len(line[:cut].encode()) > limit:
                cut = cut * 3 // 4
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode()) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current.strip():
        pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]


def post_json(url: str, body: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """POST JSON to a WeCom URL that needs no access token (webhook, aibot response_url)."""
    resp = httpx.post(url, json=body, timeout=timeout)
    resp.raise_for_status()
    return dict(resp.json())
