"""The gateway's long-lived objects, built once per process, and their FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request

from gateway.auth import Auth, RateLimiter
from gateway.escalations import Escalations
from gateway.rasa_client import RasaClient
from gateway.registry import Registry
from gateway.store import Store
from knowledge.settings import Settings

# channel prefix → coroutine delivering a liaison/system message to that channel (web needs none:
# the widget reads the store through the stream endpoint).
Deliverer = Callable[[str, str, str], Awaitable[None]]
Notifier = Callable[[dict[str, Any], str], Awaitable[None]]


@dataclass
class Services:
    """Everything a request handler needs."""

    settings: Settings
    store: Store
    registry: Registry
    escalations: Escalations
    auth: Auth
    rasa: RasaClient
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(30, 60.0))
    deliverers: dict[str, Deliverer] = field(default_factory=dict)
    notifiers: list[Notifier] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, rasa: RasaClient | None = None) -> Services:
        """Open the store (creating tables) and wire the services."""
        settings.check()
        store = Store(settings.db_url)
        store.create()
        registry = Registry(store)
        return cls(
            settings=settings, store=store, registry=registry,
            escalations=Escalations(store, registry, settings), auth=Auth(store, settings.token_ttl_s),
            rasa=rasa or RasaClient(settings), limiter=RateLimiter(settings.rate_limit_per_minute, 60.0),
        )

    async def deliver(self, sender_id: str, role: str, text: str) -> None:
        """Push a liaison/system message to a non-web channel (the store already has it)."""
        prefix = sender_id.split(":", 1)[0]
        deliver = self.deliverers.get(prefix)
        if deliver is not None:
            await deliver(sender_id, role, text)

    async def notify(self, escalation: dict[str, Any], event: str) -> None:
        """Tell liaisons about a new escalation or a new owner message (WeCom, ...)."""
        for notifier in self.notifiers:
            await notifier(escalation, event)


def get_services(request: Request) -> Services:
    """The app's services."""
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


def current_user(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> dict[str, str]:
    """The liaison behind the Bearer token, or 401."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    user = services.auth.user(authorization.split(" ", 1)[1].strip())
    if user is None:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    return user


UserDep = Annotated[dict[str, str], Depends(current_user)]
