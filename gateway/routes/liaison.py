"""Liaison login and identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request

from gateway.schemas import LoginIn, refusals
from gateway.services import ServicesDep, UserDep

router = APIRouter(prefix="/api/liaison", tags=["liaison"], responses=refusals(401, 503))


@router.post("/login", responses=refusals(429))
def login(body: LoginIn, request: Request, services: ServicesDep) -> dict[str, object]:
    """Exchange username and password for a bearer token (expires after TOKEN_TTL_S)."""
    client = request.client.host if request.client else "?"
    key = f"{body.username}|{client}"
    if services.auth.limiter.blocked(key):
        raise HTTPException(429, "too many failed logins; try again in a few minutes")
    # argon2 is deliberately slow (tens of ms of CPU): this runs in the thread pool (a plain def route).
    result = services.auth.login(body.username, body.password)
    if result is None:
        services.auth.limiter.hit(key)
        services.audit.record(body.username, "login_failed", request=request)
        raise HTTPException(401, "wrong username or password")
    services.auth.limiter.reset(key)
    token, liaison = result
    liaison = {
        **liaison,
        "role": (services.registry.liaison(liaison["username"]) or {}).get("role") or "liaison",
    }
    services.audit.record(liaison, "login", request=request)
    return {"token": token, "liaison": liaison}


@router.post("/logout")
def logout(
    request: Request,
    user: UserDep,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, bool]:
    """Revoke the current token."""
    services.auth.logout((authorization or "").split(" ", 1)[-1].strip())
    services.audit.record(user, "logout", request=request)
    return {"ok": True}


@router.get("/me")
def me(user: UserDep) -> dict[str, str]:
    """The logged-in liaison."""
    return user
