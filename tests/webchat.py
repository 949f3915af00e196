"""One owner's web conversation through the chat API, holding its id and secret as the widget does."""

from __future__ import annotations

from typing import Any

import httpx


class WebChat:
    """Sends messages and reads the conversation with its ``X-Conversation-Token``."""

    def __init__(self, base: str, timeout: float = 60) -> None:
        self.base, self.timeout = base, timeout
        self.sender_id: str | None = None
        self.token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """The ownership header (empty before the first message)."""
        return {"X-Conversation-Token": self.token} if self.token else {}

    def post(self, text: str) -> httpx.Response:
        """POST one message; adopts the id and secret of a conversation the server started."""
        body: dict[str, Any] = {"text": text}
        if self.sender_id:
            body["sender_id"] = self.sender_id
        resp = httpx.post(f"{self.base}/api/chat", json=body, headers=self.headers, timeout=self.timeout)
        if resp.status_code == 200:
            out = resp.json()
            if out.get("conversation_token"):
                self.sender_id, self.token = out["sender_id"], out["conversation_token"]
        return resp

    def send(self, text: str) -> dict[str, Any]:
        """One message that must be accepted; the gateway's JSON answer."""
        resp = self.post(text)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def messages(self, after: int = 0) -> list[dict[str, Any]]:
        """The stored conversation, oldest first."""
        resp = httpx.get(
            f"{self.base}/api/conversations/{self.sender_id}/messages",
            params={"after": after},
            headers=self.headers,
            timeout=self.timeout,
        )
        assert resp.status_code == 200, resp.text
        return list(resp.json())
