"""The gateway's client of Rasa: the REST channel for turns, the HTTP API for resume and health."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from huiqitong.settings import Settings

logger = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer within the bounded retries."""


@dataclass
class Reply:
    """One bot message as the chat API returns it."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Public shape: text, buttons, sources."""
        return {"text": self.text, "buttons": self.buttons, "sources": self.sources}


def merge_outputs(outputs: list[dict[str, Any]]) -> list[Reply]:
    """Rasa's REST channel sends a message's custom JSON as a separate item: fold it into the text before it."""
    replies: list[Reply] = []
    for item in outputs:
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        if item.get("text"):
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in item.get("buttons") or []
            ]
            replies.append(Reply(text=str(item["text"]), buttons=buttons))
        if custom is not None:
            if replies and not replies[-1].custom:
                target = replies[-1]
            else:
                target = Reply(text="")
                replies.append(target)
            target.custom = custom
            target.sources = [
                {
                    "policy_id": str(s.get("policy_id", "")),
                    "title": str(s.get("title", "")),
                    "section": str(s.get("section", "")),
                    "cited_as": str(s.get("cited_as") or "答复函"),
                }
                for s in custom.get("sources") or []
                if isinstance(s, dict)
            ]
    return [r for r in replies if r.text]


class RasaClient:
    """Talks to Rasa: one server, or several sharing a tracker store and a lock store (RASA_URLS),
    taken in turn: the lock store keeps each conversation on one instance at a time."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.urls = settings.rasa_urls_list
        self._turn = itertools.cycle(range(len(self.urls)))
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.rasa_timeout_s, connect=2.0),
            transport=transport,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
        )

    def _url(self, path: str) -> str:
        return self.urls[next(self._turn)] + path

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def send(self, sender_id: str, text: str, channel: str, retries: int = 2) -> list[Reply]:
        """One user turn through the REST channel; retries connection failures with backoff.

        Raises:
            RasaUnavailable: Rasa refused or timed out on every attempt.
        """
        body = {
            "sender": sender_id,
            "message": text,
            "metadata": {"channel": channel},
            "input_channel": channel,
        }
        delay = 0.2
        for attempt in range(retries + 1):
            try:
                resp = await self.http.post(self._url("/webhooks/rest/webhook"), json=body)
                resp.raise_for_status()
                return merge_outputs(resp.json())
            except httpx.ConnectError as exc:
                # Nothing reached Rasa: safe to retry the same turn.
                if attempt == retries:
                    raise RasaUnavailable(str(exc)) from exc
                await asyncio.sleep(delay)
                delay *= 3
            except (httpx.HTTPError, ValueError) as exc:
                # A timeout or 5xx may have been processed; retrying could answer twice.
                raise RasaUnavailable(str(exc)) from exc
        raise AssertionError("unreachable")

    async def resume(self, sender_id: str) -> None:
        """Append resume + action_listen so the paused bot predicts again from a clean turn boundary.

        A pause stops prediction before action_listen; without it rules see a half-finished turn.
        """
        resp = await self.http.post(
            self._url(f"/conversations/{sender_id}/tracker/events"),
            params={"token": self.settings.rasa_token},
            json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        )
        resp.raise_for_status()

    async def forget(self, sender_id: str) -> None:
        """Replace the conversation's tracker with an empty one (the owner cleared the conversation)."""
        resp = await self.http.put(
            self._url(f"/conversations/{sender_id}/tracker/events"),
            params={"token": self.settings.rasa_token},
            json=[],
        )
        resp.raise_for_status()

    async def healthy(self) -> tuple[bool, str]:
        """Whether every Rasa instance answers /status with a loaded model."""
        details = []
        for url in self.urls:
            try:
                resp = await self.http.get(
                    f"{url}/status", params={"token": self.settings.rasa_token}, timeout=2.0
                )
                model = resp.json().get("model_file") if resp.status_code == 200 else None
            except (httpx.HTTPError, ValueError) as exc:
                return False, f"{url}: {type(exc).__name__}"
            if not model:
                return False, f"{url}: HTTP {resp.status_code}, no model loaded"
            details.append(str(model))
        return True, ", ".join(dict.fromkeys(details))
