"""The gateway's long-lived objects, built once per process, and their FastAPI dependencies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from gateway.auth import Auth, RateLimiter
from gateway.bus import MessageBus
from gateway.data.audit import Audit
from gateway.data.escalations import Escalations
from gateway.data.registry import Registry
from gateway.data.store import Store
from gateway.knowledge import Knowledge
from gateway.rasa_client import RasaClient
from huiqitong.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Channel family ("wecom") → the deliveries (outbound rows) that carry replies of a conversation out
# through that channel's API. The web channel needs none: the widget reads the store.
OutboundBuilder = Callable[[str, str, list[dict[str, Any]]], list[dict[str, str]]]
Notifier = Callable[[Mapping[str, Any], str], Awaitable[None]]


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
    outbound: dict[str, OutboundBuilder] = field(default_factory=dict)
    new_conversations: RateLimiter = field(
        default_factory=lambda: RateLimiter(60, 60.0)
    )  # per client address
    audit: Audit = None  # type: ignore[assignment]  # set in __post_init__ from the store
    wecom: Any = None  # gateway.wecom.channel.WeComChannel when WeCom is configured
    notifiers: list[Notifier] = field(default_factory=list)
    bus: MessageBus = field(default_factory=MessageBus)  # wakes the live streams; see gateway.bus
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)  # background work, held until done
    loop: asyncio.AbstractEventLoop | None = None  # the app's, set at start-up
    knowledge: Knowledge = None  # type: ignore[assignment]  # set in __post_init__ from the store

    @classmethod
    def build(cls, settings: Settings, rasa: RasaClient | None = None) -> Services:
        """Open the store (creating tables) and wire the services."""
        store = Store(settings.db_url, settings.db_busy_timeout_s)
        store.create()
        registry = Registry(store)
        return cls(
            settings=settings,
            store=store,
            registry=registry,
            escalations=Escalations(store, registry, settings),
            auth=Auth(store, settings.token_ttl_s, storage_url=settings.redis_url),
            rasa=rasa or RasaClient(settings),
            limiter=RateLimiter(
                settings.rate_limit_per_minute, 60.0, name="sender", storage_url=settings.redis_url
            ),
            new_conversations=RateLimiter(
                settings.new_conversations_per_minute,
                60.0,
                name="new-conversations",
                storage_url=settings.redis_url,
            ),
        )

    def __post_init__(self) -> None:
        if self.audit is None:
            self.audit = Audit(self.store)
        if self.knowledge is None:
            self.knowledge = Knowledge(self.store, self.settings)
        self.store.listeners.append(self.bus.publish)

    def deliveries(self, sender_id: str, channel: str, replies: list[dict[str, Any]]) -> list[dict[str, str]]:
        """Outbound rows that carry ``replies`` to a conversation in a channel with its own API."""
        builder = self.outbound.get(channel.split("-", 1)[0])
        return builder(sender_id, channel, replies) if builder else []

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking work (the store, the registry, escalations) in the worker thread pool, so the
        event loop keeps serving streams, health checks and other conversations while it waits."""
        return await run_in_threadpool(fn, *args, **kwargs)

    def spawn_threadsafe(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """``spawn`` from a worker thread (a plain ``def`` route)."""
        if self.loop is None:
            coro.close()
            raise RuntimeError("the app's event loop is not running")
        self.loop.call_soon_threadsafe(self.spawn, coro, name)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background: the task is held until it ends and its failure is logged."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def stop_tasks(self) -> None:
        """Cancel the background work and wait for it to end."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def notify(self, escalation: Mapping[str, Any], event: str) -> None:
        """Tell liaisons about a new escalation or a new owner message (WeCom, ...)."""
        for notifier in self.notifiers:
            await notifier(escalation, event)


def get_services(request: Request) -> Services:
    """The app's services."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_user(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> dict[str, str]:
    """The liaison behind the Bearer token, or 401."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    user = services.auth.user(authorization.split(" ", 1)[1].strip())
    if user is None:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    if "role" not in user:
        user["role"] = (services.registry.liaison(user["username"]) or {}).get("role") or "liaison"
    return user


UserDep = Annotated[dict[str, str], Depends(current_user)]


def current_admin(user: UserDep) -> dict[str, str]:
    """The logged-in staff member when they have the ``admin`` role, or 403."""
    if user.get("role") != "admin":
        raise HTTPException(403, "administrators only")
    return user


AdminDep = Annotated[dict[str, str], Depends(current_admin)]


def current_editor(user: UserDep) -> dict[str, str]:
    """The logged-in staff member when they keep the knowledge (``editor``) or administer (``admin``), or 403."""
    if user.get("role") not in ("editor", "admin"):
        raise HTTPException(403, "editors only")
    return user


EditorDep = Annotated[dict[str, str], Depends(current_editor)]
