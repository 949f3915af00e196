"""Build the FastAPI app: ``create_app()``; run with ``python -m gateway``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from gateway.bus import PgListener
from gateway.cors import OwnerRoutesCORS
from gateway.data import retention
from gateway.data.store import StoreError
from gateway.reminders import remind_forever
from gateway.routes import (
    admin,
    chat,
    dashboard,
    escalations,
    feedback,
    handoff,
    health,
    knowledge,
    liaison,
    pages,
    pushes,
    vocabulary,
)
from gateway.schemas import ErrorOut, refusals
from gateway.services import Services
from gateway.wecom import callback as wecom_callback
from gateway.wecom.channel import WeComChannel
from gateway.wecom.kf import KfChannel
from gateway.wecom.kf_ids import KF_PREFIX
from gateway.wecom.outbox import Outbox
from huiqitong.settings import ROOT, Settings, get_settings

logger = logging.getLogger(__name__)


def start_channels(services: Services) -> None:
    """Wire WeCom when configured: the app and 微信客服, their outbound builders, the liaison notifier
    and background workers."""
    if not services.settings.wecom_enabled:
        return
    outbox = Outbox(services.store, services.settings)
    channel = WeComChannel(services, outbox)
    channel.kf = kf = KfChannel(services, outbox, outbox.kf, channel.wake)
    services.wecom = channel
    services.outbound["wecom"] = channel.deliveries
    services.outbound[KF_PREFIX] = kf.deliveries
    services.notifiers.append(channel.notify)
    outbox.on_failed.append(kf.on_send_failed)
    services.spawn(channel.run(), "wecom-inbound")
    services.spawn(outbox.run(), "wecom-outbox")
    services.spawn(kf.run(), "wecom-kf")


PURGE_EVERY_S = 24 * 3600


async def purge_daily(services: Services) -> None:
    """Run the retention purge at start-up and then once a day (every worker: it is idempotent)."""
    while True:
        try:
            await services.db(retention.purge, services.store, services.settings)
        except Exception:
            logger.exception("retention purge failed")
        await asyncio.sleep(PURGE_EVERY_S)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The gateway app with every route; ``services`` lets tests inject their own."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = svc = services or Services.build(settings)
        svc.loop = asyncio.get_running_loop()
        svc.bus.bind(svc.loop)
        listener = PgListener(svc.store.url, svc.bus) if svc.store.dialect == "postgresql" else None
        if listener is not None:
            listener.start()
        # The seed records the store lacks, and an index built from what is published (usually current).
        await svc.db(svc.knowledge.sync)
        start_channels(svc)
        svc.spawn(purge_daily(svc), "retention-purge")
        svc.spawn(remind_forever(svc), "sla-reminders")
        yield
        await svc.stop_tasks()
        if listener is not None:
            await asyncio.to_thread(listener.stop)
        await svc.rasa.close()

    app = FastAPI(
        title="惠企通 gateway",
        version="0.1.0",
        lifespan=lifespan,
        description="Chat API, liaison console and channels of 惠企通 (中工信函〔2022〕38号).",
        # Any route: a body that is not JSON at all (400), the store down (503).
        responses=refusals(400, 503),
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = ErrorOut.schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    for module in (
        chat,
        handoff,
        liaison,
        escalations,
        admin,
        knowledge,
        feedback,
        dashboard,
        pushes,
        health,
        pages,
        vocabulary,
        wecom_callback,
    ):
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
        # The documented shape (ValidationErrorOut): loc, msg, type; the input itself is not echoed.
        errors = [
            {"loc": list(e.get("loc") or ()), "msg": str(e.get("msg")), "type": str(e.get("type"))}
            for e in exc.errors()
        ]
        logger.info("invalid request on %s: %s", request.url.path, errors)
        return JSONResponse({"detail": errors}, status_code=422)

    return app
