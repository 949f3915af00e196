"""Start the action server on the configured port: ``python -m actions``."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pluggy
from rasa_sdk.endpoint import run
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from actions.gateway_client import HandoffClient, flush_every
from huiqitong.settings import Settings, service_settings
from knowledge.answerable import default_answerability, focus_nouns
from knowledge.search import default_searcher
from knowledge.understand import understand

hookimpl = pluggy.HookimplMarker("rasa_sdk")


class OutboxFlusher:
    """rasa-sdk plugin: each server worker flushes the handoff outbox at start and every
    HANDOFF_FLUSH_INTERVAL_S, so a packet kept while the gateway was down follows it back up."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        """Run the flusher as a background task of the server's event loop."""

        async def start(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            client = HandoffClient(self.settings)  # in the worker: its own outbox connection
            app.ctx.outbox_flusher = asyncio.create_task(
                flush_every(client, self.settings.handoff_flush_interval_s)
            )

        async def stop(app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            task = getattr(app.ctx, "outbox_flusher", None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        app.register_listener(start, "after_server_start")
        app.register_listener(stop, "before_server_stop")


class KnowledgeHealth:
    """rasa-sdk plugin: ``GET /health/knowledge`` says whether this server's knowledge base answers
    (the gateway's /healthz asks here instead of opening the index itself)."""

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        """Add the route."""

        async def knowledge(_request: Request) -> HTTPResponse:
            try:
                searcher = default_searcher()
                return json_response({"ok": True, "records": len(searcher.policies)})
            except Exception as exc:  # noqa: BLE001 - any failure: not healthy, and why
                return json_response({"ok": False, "detail": str(exc)[:200]}, status=503)

        app.add_route(knowledge, "/health/knowledge", methods=["GET"])


def main() -> None:
    """Open the knowledge base, then serve, flushing the handoff outbox in the background."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # httpx logs every request URL at INFO, and Rasa's API takes its token in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = service_settings()
    default_searcher()  # open the index and load jieba once, before the first request
    # Likewise the term statistics, the POS tagger and the typo vocabulary of answerability.
    warm = understand("专精特新增长补贴有多少")
    default_answerability().matches(warm.text)
    focus_nouns(warm.text)
    plugin_manager().register(OutboxFlusher(settings))
    plugin_manager().register(KnowledgeHealth())
    run("actions", port=settings.actions_port, auto_reload=False)


if __name__ == "__main__":
    main()
