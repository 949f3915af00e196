"""Health of the gateway and everything it depends on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.services import ServicesDep
from knowledge.search import default_searcher

router = APIRouter(tags=["health"])


async def _actions(url: str) -> tuple[bool, str]:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            resp = await client.get(url)
        return resp.status_code == 200, f"HTTP {resp.status_code}"
    except httpx.HTTPError as exc:
        return False, type(exc).__name__


def _database(services: ServicesDep) -> tuple[bool, str]:
    try:
        with services.store.engine.connect() as con:
            con.execute(sa.text("SELECT 1"))
        return True, services.store.engine.dialect.name
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return False, type(exc).__name__


def _knowledge() -> tuple[bool, str]:
    try:
        return True, f"{len(default_searcher().policies)} records"
    except Exception as exc:  # noqa: BLE001
        return False, str(exc)


@router.get("/healthz")
async def healthz(services: ServicesDep) -> JSONResponse:
    """Each dependency's state (rasa, actions, knowledge base, database); 503 when one is down."""
    s = services.settings
    rasa, actions = await asyncio.gather(
        services.rasa.healthy(), _actions(f"http://{s.actions_host}:{s.actions_port}/health")
    )
    checks: dict[str, Any] = {
        "rasa": rasa,
        "actions": actions,
        "knowledge_base": _knowledge(),
        "database": _database(services),
    }
    body = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}
    healthy = all(v["ok"] for v in body.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "checks": body}, status_code=200 if healthy else 503
    )
