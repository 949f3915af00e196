"""Health of the gateway and everything it depends on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.schemas import ApiModel
from gateway.services import Services, ServicesDep

router = APIRouter(tags=["health"])


class Check(ApiModel):
    """One dependency's state."""

    ok: bool
    detail: str


class HealthOut(ApiModel):
    """Every dependency's state; ``degraded`` (and HTTP 503) when one is down."""

    status: str
    checks: dict[str, Check]


async def _action_server(url: str) -> tuple[tuple[bool, str], tuple[bool, str]]:
    """The action server's own health and, from it, its knowledge base's."""
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            resp = await client.get(url)
    except httpx.HTTPError as exc:
        return (False, type(exc).__name__), (False, "action server unreachable")
    if resp.status_code == 404:  # an action server without our plugin (started by hand)
        return (False, "HTTP 404 on /health/knowledge"), (False, "unknown")
    try:
        body = resp.json()
    except ValueError:
        return (False, f"HTTP {resp.status_code}"), (False, "unknown")
    knowledge = (
        (True, f"{body.get('records')} records") if body.get("ok") else (False, str(body.get("detail")))
    )
    return (True, f"HTTP {resp.status_code}"), knowledge


def _database(services: Services) -> tuple[bool, str]:
    try:
        services.store.ping()
        return True, services.store.dialect
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return False, type(exc).__name__


@router.get("/healthz", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def healthz(services: ServicesDep) -> JSONResponse:
    """Each dependency's state (rasa, actions, knowledge base, database); 503 when one is down.

    The knowledge base is the action server's (it answers from it), asked at its /health/knowledge.
    """
    s = services.settings
    rasa, (actions, knowledge), database = await asyncio.gather(
        services.rasa.healthy(),
        _action_server(f"http://{s.actions_host}:{s.actions_port}/health/knowledge"),
        services.db(_database, services),
    )
    checks: dict[str, Any] = {
        "rasa": rasa,
        "actions": actions,
        "knowledge_base": knowledge,
        "database": database,
    }
    body = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}
    healthy = all(v["ok"] for v in body.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "checks": body}, status_code=200 if healthy else 503
    )
