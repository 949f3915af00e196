"""New-message notifications for the live streams (SSE), so no open widget polls the database.

The store calls ``MessageBus.publish`` after a transaction that inserted messages commits, from
whatever thread ran it; each stream waits on its own ``asyncio.Event``. Several gateway workers on
PostgreSQL also hear each other: the store adds ``pg_notify`` to the same transaction (delivered at
commit) and ``PgListener`` relays what it hears into the local bus. On SQLite with several workers a
stream still catches another worker's message by its fallback poll (``STREAM_FALLBACK_POLL_S``).
"""

from __future__ import annotations

import asyncio
import logging
import select
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from gateway.data.schema import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)
CHANNEL = NOTIFY_CHANNEL  # the payload is a sender_id


class MessageBus:
    """In-process broadcast of "conversation X has new messages" to the streams that follow X."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop the streams run on (the app's, set at start-up)."""
        self._loop = loop

    def publish(self, senders: Iterable[str]) -> None:
        """Wake the streams of ``senders``; safe from any thread, a no-op before ``bind``."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        # Only conversations a stream here follows (membership in a dict is safe from any thread; a
        # stream that subscribes meanwhile reads the database before it first waits): every worker
        # hears every new message on PostgreSQL, and waking the loop for none costs each one.
        wanted = {s for s in senders if s in self._waiters}
        if wanted:
            loop.call_soon_threadsafe(self._wake, wanted)

    def _wake(self, senders: set[str]) -> None:
        for sender in senders:
            for event in self._waiters.get(sender, ()):
                event.set()

    @contextmanager
    def subscribe(self, sender_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever ``sender_id`` gets a new message, for as long as the block runs."""
        event = asyncio.Event()
        self._waiters[sender_id].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(sender_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[sender_id]

    def followed(self) -> int:
        """How many streams are waiting (for tests and health)."""
        return sum(len(w) for w in self._waiters.values())


class Wake(asyncio.Event):
    """An ``asyncio.Event`` that may also be set from a worker thread (a plain ``def`` route, or work
    run with ``Services.db``): then the set is handed to the loop that waits on it."""

    def set(self) -> None:
        """Set the flag and wake the waiters, from the loop or from any other thread."""
        loop: asyncio.AbstractEventLoop | None = self._loop  # type: ignore[attr-defined]  # bound on first wait
        if loop is None or loop.is_closed():
            super().set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            super().set()
        else:
            loop.call_soon_threadsafe(super().set)


class PgListener:
    """A thread that LISTENs on PostgreSQL and republishes each notification into a bus.

    It holds one connection of its own (not from the pool) and reconnects with back-off when the
    server goes away; while it is disconnected the streams' fallback poll still delivers.
    """

    def __init__(self, url: str, bus: MessageBus) -> None:
        self.url = url
        self.bus = bus
        self._stop = threading.Event()
        self.listening = threading.Event()  # set while LISTEN is in effect
        self._thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)

    def start(self) -> None:
        """Start listening in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop at the next wake-up (within a second)."""
        self._stop.set()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        import psycopg2  # the PostgreSQL driver the store uses

        delay = 0.5
        while not self._stop.is_set():
            try:
                con = psycopg2.connect(self.url.replace("postgresql+psycopg2://", "postgresql://"))
            except psycopg2.Error as exc:
                logger.warning("LISTEN %s: cannot connect (%s); retrying in %.1fs", CHANNEL, exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
                continue
            delay = 0.5
            try:
                con.autocommit = True
                with con.cursor() as cur:
                    cur.execute(f"LISTEN {CHANNEL}")
                self.listening.set()
                while not self._stop.is_set():
                    if select.select([con], [], [], 1.0)[0]:
                        con.poll()
                        senders = {n.payload for n in con.notifies}
                        con.notifies.clear()
                        self.bus.publish(senders)
            except psycopg2.Error as exc:
                logger.warning("LISTEN %s interrupted (%s); reconnecting", CHANNEL, exc)
            finally:
                self.listening.clear()
                con.close()
