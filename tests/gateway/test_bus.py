"""New-message notifications: a stream is woken by a message stored in its own process (the bus) and,
on PostgreSQL, by one stored by another worker (NOTIFY, relayed by PgListener)."""

from __future__ import annotations

import asyncio
import time

from gateway.bus import MessageBus, PgListener
from gateway.data.store import Store


def test_a_stored_message_wakes_the_streams_of_its_conversation_only(store: Store) -> None:
    bus = MessageBus()
    store.listeners.append(bus.publish)

    async def scenario() -> tuple[float, bool]:
        bus.bind(asyncio.get_running_loop())
        with bus.subscribe("web-a") as woken_a, bus.subscribe("web-b") as woken_b:
            started = time.monotonic()
            await asyncio.to_thread(store.add_message, "web-a", "user", "你好")
            await asyncio.wait_for(woken_a.wait(), timeout=2)
            return time.monotonic() - started, woken_b.is_set()

    seconds, other_woken = asyncio.run(scenario())
    assert seconds < 0.5
    assert not other_woken
    assert bus.followed() == 0  # subscriptions end with their block


def test_another_workers_message_wakes_the_stream_through_postgresql(pg_store: Store) -> None:
    """NOTIFY is PostgreSQL's; on SQLite another worker's message is caught by the fallback poll."""
    store = pg_store
    bus = MessageBus()  # this worker's bus: its own store announces nothing here
    other_worker = Store(store.url)

    async def scenario() -> float:
        bus.bind(asyncio.get_running_loop())
        listener = PgListener(store.url, bus)
        listener.start()
        try:
            with bus.subscribe("web-x") as woken:
                assert await asyncio.to_thread(listener.listening.wait, 10)
                started = time.monotonic()
                await asyncio.to_thread(other_worker.add_message, "web-x", "liaison", "您好，我是挂点联络员")
                await asyncio.wait_for(woken.wait(), timeout=5)
                return time.monotonic() - started
        finally:
            await asyncio.to_thread(listener.stop)

    assert asyncio.run(scenario()) < 1.5
    other_worker.engine.dispose()
