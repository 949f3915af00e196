"""Build the FastAPI app: ``create_app()``; run with ``python -m gateway``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from gateway import retention
from gateway.cors import OwnerRoutesCORS
from gateway.reminders import remind_forever
from gateway.routes import admin, chat, escalations, handoff, health, liaison, pages
from gateway.services import Services
from gateway.store import StoreError
from gateway.wecom import callback as wecom_callback
from gateway.wecom.channel import WeComChannel
from gateway.wecom.kf import KfChannel
from gateway.wecom.kf_state import KF_PREFIX
from gateway.wecom.outbox import Outbox
from knowledge.settings import ROOT, Settings, get_settings

logger = logging.getLogger(__name__)


def start_channels(services: Services) -> list[asyncio.Task[None]]:
    """Wire WeCom when configured: the app and 微信客服, their outbound builders, the liaison notifier
    and background workers."""
    if not services.settings.wecom_enabled:
        return []
    outbox = Outbox(services.store, services.settings)
    channel = WeComChannel(services, outbox)
    channel.kf = kf = KfChannel(services, outbox, outbox.kf, channel.wake)
    services.wecom = channel
    services.outbound["wecom"] = channel.deliveries
    services.outbound[KF_PREFIX] = kf.deliveries
    services.notifiers.append(channel.notify)
    outbox.on_failed.append(kf.on_send_failed)
    return [
        asyncio.create_task(channel.run()),
        asyncio.create_task(outbox.run()),
        asyncio.create_task(kf.run()),
    ]


PURGE_EVERY_S = 24 * 3600


async def purge_daily(services: Services) -> None:
    """Run the retention purge at start-up and then once a day (every worker: it is idempotent)."""
    while True:
        try:
            await asyncio.to_thread(retention.purge, services.store, services.settings)
        except Exception:
            logger.exception("retention purge failed")
        await asyncio.sleep(PURGE_EVERY_S)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The gateway app with every route; ``services`` lets tests inject their own."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services or Services.build(settings)
        tasks = [
            *start_channels(app.state.services),
            asyncio.create_task(purge_daily(app.state.services)),
            asyncio.create_task(remind_forever(app.state.services)),
        ]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.state.services.rasa.close()

    app = FastAPI(
        title="惠企通 gateway",
        version="0.1.0",
        lifespan=lifespan,
        description="Chat API, liaison console and channels of 惠企通 (中工信函〔2022〕38号).",
    )
    for module in (chat, handoff, liaison, escalations, admin, health, pages, wecom_callback):
        app.include_router(module.router)
    if settings.allowed_origins_list:
        app.add_middleware(OwnerRoutesCORS, allow_origins=settings.allowed_origins_list)
    app.mount("/static", StaticFiles(directory=str(ROOT / "gateway" / "static")), name="static")

    @app.exception_handler(StoreError)
    async def _store_down(request: Request, exc: StoreError) -> JSONResponse:
        logger.error("store error on %s: %s", request.url.path, exc)
        return JSONResponse(
            {"detail": "storage temporarily unavailable, nothing was changed"}, status_code=503
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Keep 422 but make the message readable; never echo huge inputs back.
        errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        logger.info("invalid request on %s: %s", request.url.path, errors)
        return JSONResponse({"detail": errors}, status_code=422)

    return app
