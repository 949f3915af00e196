"""Rasa's tracker kept to the conversation's current session, so a turn costs the same at turn 500 as
at turn 10.

Everything the bot needs lives in the current session: the slots (carried into each new session,
``carry_over_slots_to_new_session`` in bot/domain.yml) and the latest message. The transcript the
console shows is the gateway's (its messages table), not Rasa's. So this module says what the
current session is, when a session has grown long enough to be rolled over (a WeCom group's
conversation is never idle for ``session_expiration_time``, so it would otherwise never end), and
provides the in-memory store our launcher uses, which keeps and loads only that session, and the SQL
store of the scaled profile (several Rasa instances on one database), which loads only the latest
session as Rasa's does, with fewer round trips per turn.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

# A session is rolled over into a new one (slots carried) at the first message after it holds this
# many events: about 7 turns of ours (a turn logs 6-10 events). Every turn's cost grows with the
# session (Rasa featurises, serialises and sends all of it): in conversations that go on, 200 events
# (25 turns) cost 40 ms of Rasa CPU a turn against 26 ms at 60, and 13 ms for a first turn. The
# memoised stories look back 5 turns at most, and the bot keeps no memory outside its slots.
MAX_SESSION_EVENTS = 60


def current_session(tracker: DialogueStateTracker) -> list[Event]:
    """The tracker's events from its latest session start on (all of them when it has none).

    The session starts at the last ``session_started`` event, or at the ``action_session_start`` right
    before it: that event resets the whole dialogue state (slots, pause, active loop, latest message),
    so nothing before it changes what the tracker is.
    """
    events = list(tracker.events)
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], SessionStarted):
            before = events[i - 1] if i else None
            announced = isinstance(before, ActionExecuted) and before.action_name == ACTION_SESSION_START_NAME
            return events[i - 1 if announced else i :]
    return events


def session_is_long(tracker: DialogueStateTracker, limit: int | None = None) -> bool:
    """Whether the current session holds more than ``limit`` (default :data:`MAX_SESSION_EVENTS`)
    events and may be rolled over now: never while a liaison holds the conversation (a new session
    would un-pause it) or a form is active (its loop is not carried over)."""
    if tracker.is_paused() or tracker.active_loop_name:
        return False
    return len(current_session(tracker)) > (MAX_SESSION_EVENTS if limit is None else limit)


class SessionTrackerStore(InMemoryTrackerStore):
    """Rasa's in-memory tracker store, keeping only each conversation's current session.

    Stock ``InMemoryTrackerStore`` keeps whatever the tracker holds (a rolled-over session's old
    events too, until the next turn), deserialises all of it on each retrieve and then rebuilds the
    latest session from it a second time; this one stores the current session alone and replays it
    once.
    """

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's current session."""
        await self.stream_events(tracker)
        session = Dialogue(tracker.sender_id, current_session(tracker))
        self.store[tracker.sender_id] = json.dumps(session.as_dict())

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's tracker (its current session), or None when there is none."""
        serialised = self.store.get(sender_id)
        return None if serialised is None else self.deserialise_tracker(sender_id, serialised)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """The same as :meth:`retrieve`: earlier sessions are not kept."""
        return await self.retrieve(sender_id)


# A tracker's attribute: how many of its events are already in the SQL store (set when it was loaded
# or saved there).
_PERSISTED = "_hqt_persisted_events"
# At most this many conversations found empty and not yet saved are remembered (a lookup of an
# unknown conversation that is never saved must not grow the set for ever).
_MAX_UNSTORED = 10_000


class SessionSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, same tables and same sessions, with less work per turn.

    Stock ``save`` first counts the session's stored events (a query) to find the new ones, then
    inserts them through the ORM, one ``INSERT … RETURNING`` per event, ids it never reads; ``retrieve``
    builds an ORM object per event only to read its JSON. Here a tracker remembers how many of its
    events it was loaded (or last saved) with, the new ones go in one multi-row insert, and retrieve
    reads the JSON column alone. A conversation it has just found empty (a new one, whose tracker Rasa
    creates next, through the wrappers that call this store's ``save`` but not its ``create_tracker``)
    needs no count either, and a save with nothing new writes nothing. Any other tracker this store
    did not load is counted as stock does.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Conversations this instance just looked up and found nothing stored for.
        self._unstored: set[str] = set()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if not events:
            # Rasa creates the conversation's tracker next (the lock store keeps other instances off
            # it meanwhile); its first save need not count what is stored.
            if len(self._unstored) >= _MAX_UNSTORED:
                self._unstored.clear()
            self._unstored.add(sender_id)
        else:
            self._unstored.discard(sender_id)
        if not self.domain or not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            setattr(tracker, _PERSISTED, len(events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Insert the tracker's events that are not stored yet (no round trip when there are none)."""
        await self.stream_events(tracker)
        stored = getattr(tracker, _PERSISTED, None)
        if stored is None and tracker.sender_id in self._unstored:
            stored = 0
        self._unstored.discard(tracker.sender_id)
        if stored is not None and stored >= len(tracker.events):
            setattr(tracker, _PERSISTED, stored)
            return
        with self.session_scope() as session:
            if stored is None:
                stored = self._event_query(
                    session, tracker.sender_id, fetch_events_from_all_sessions=False
                ).count()
            rows = [self._row(tracker.sender_id, e) for e in itertools.islice(tracker.events, stored, None)]
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
                session.commit()
        setattr(tracker, _PERSISTED, len(tracker.events))

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """The ``events`` row of one event, as stock ``save`` writes it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
