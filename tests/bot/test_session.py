"""A turn's cost does not grow with the conversation: the launcher sends the action server the current
session only, rolls a long session over into a new one with the slots carried (once each), and the
tracker store keeps the current session alone; the state the actions see stays the same."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from rasa.core.actions.action import ActionSessionStart, RemoteAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from bench.stack import ROOT, Stack, free_port, stack_env
from bot.tracker_store import MAX_SESSION_EVENTS, SessionTrackerStore, current_session, session_is_long

DOMAIN = Domain.load(str(ROOT / "bot" / "domain.yml"))
STOCK_CALL_FORMAT = RemoteAction._action_call_format  # captured before any test installs the launcher


def turn(text: str, intent: str, reply: str, *slots: tuple[str, Any]) -> list[Event]:
    """One owner turn as Rasa logs it."""
    return [
        UserUttered(text, {"name": intent, "confidence": 0.9}, parse_data={"text": text}),
        ActionExecuted("action_respond"),
        *(SlotSet(k, v) for k, v in slots),
        BotUttered(reply),
        ActionExecuted("action_listen"),
    ]


def session_start(*slots: tuple[str, Any]) -> list[Event]:
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        *(SlotSet(k, v) for k, v in slots),
        ActionExecuted("action_listen"),
    ]


FIRST = [
    *session_start(),
    *turn("我们是省级专精特新", "provide_firm_info", "好的", ("zjtx_level", "省级")),
    *turn("能拿增长补贴吗", "ask_eligibility", "增长了多少？", ("asked_fact", "growth_pct")),
]
SECOND = [
    *session_start(("zjtx_level", "省级"), ("asked_fact", "growth_pct")),
    *turn("增长了35%", "provide_firm_info", "符合", ("growth_pct", 35), ("asked_fact", None)),
]


def tracker_of(events: list[Event], sender: str = "s") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


def test_current_session_starts_at_the_latest_session_start() -> None:
    assert current_session(tracker_of(FIRST + SECOND)) == SECOND
    assert current_session(tracker_of(FIRST)) == FIRST
    no_start = FIRST[2:]
    assert current_session(tracker_of(no_start)) == no_start


@pytest.mark.usefixtures("patched")
@pytest.mark.parametrize("selective", [True, False])
def test_action_call_carries_the_current_session_and_the_same_state(selective: bool) -> None:
    tracker = tracker_of(FIRST + SECOND)
    action = RemoteAction("action_respond", EndpointConfig("http://x", enable_selective_domain=selective))
    ours, stock = action._action_call_format(tracker, DOMAIN), STOCK_CALL_FORMAT(action, tracker, DOMAIN)
    assert len(stock["tracker"]["events"]) == len(FIRST + SECOND)
    assert ours["tracker"].pop("events") == [e.as_dict() for e in SECOND]
    stock["tracker"].pop("events")
    assert ours == stock  # slots, latest message, paused, latest action ... and the domain when sent
    assert ("domain" in ours) is not selective
    assert ours["tracker"]["slots"]["zjtx_level"] == "省级"
    assert ours["tracker"]["slots"]["growth_pct"] == 35
    assert ours["tracker"]["latest_message"]["text"] == "增长了35%"


def test_a_session_is_long_after_its_limit_of_events() -> None:
    events = FIRST + SECOND
    assert not session_is_long(tracker_of(events))  # the default limit is far off
    assert session_is_long(tracker_of(events), limit=len(SECOND) - 1)
    assert not session_is_long(tracker_of(events), limit=len(SECOND))
    assert session_is_long(tracker_of(FIRST[2:]), limit=3)  # no session start at all: counts everything
    paused = tracker_of([*events, ConversationPaused()])
    assert not session_is_long(paused, limit=1)  # a new session would hand the owner back to the bot


@pytest.mark.usefixtures("patched")
def test_processor_rolls_a_long_session_over() -> None:
    processor = SimpleNamespace(domain=DOMAIN)  # all _has_session_expired reads of the processor
    long = tracker_of(
        SECOND + [e for _ in range(MAX_SESSION_EVENTS) for e in turn("谢谢", "thanks", "不客气")]
    )
    assert MessageProcessor._has_session_expired(processor, long)
    assert not MessageProcessor._has_session_expired(processor, tracker_of(SECOND))


@pytest.mark.usefixtures("patched")
def test_new_session_carries_each_slot_once_at_its_value() -> None:
    old = tracker_of(FIRST + SECOND)
    started = asyncio.run(
        ActionSessionStart().run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), old, DOMAIN
        )
    )
    carried = [e for e in started if isinstance(e, SlotSet)]
    assert sorted(e.key for e in carried) == ["asked_fact", "growth_pct", "zjtx_level"]  # not 5 SlotSets
    new = tracker_of([*old.events, ActionExecuted("action_session_start"), *started])
    assert new.current_slot_values() == old.current_slot_values()


def test_store_keeps_only_the_current_session_and_the_same_tracker() -> None:
    tracker = tracker_of(FIRST + SECOND, sender="kept")
    ours, stock = SessionTrackerStore(DOMAIN), InMemoryTrackerStore(DOMAIN)
    asyncio.run(ours.save(tracker))
    asyncio.run(stock.save(tracker))
    assert [e["event"] for e in json.loads(ours.store["kept"])["events"]] == [e.type_name for e in SECOND]
    mine, theirs = asyncio.run(ours.retrieve("kept")), asyncio.run(stock.retrieve("kept"))
    assert mine is not None
    assert theirs is not None
    assert mine.current_state(EventVerbosity.ALL) == theirs.current_state(EventVerbosity.ALL)
    assert asyncio.run(ours.retrieve("unknown")) is None


class FakeActions:
    """A local action server that records what Rasa sends and answers every call with a reply and a
    ``last_sources`` slot (so SlotSet events pile up as action_respond's do)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.calls.append(call)
                n = len(fake.calls)
                events = [{"event": "slot", "name": "last_sources", "value": [f"p{n}"]}]
                if n == 1:
                    events.append({"event": "slot", "name": "asked_fact", "value": "growth_pct"})
                body = json.dumps({"events": events, "responses": [{"text": f"答复{n}"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def rasa_with_fake_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, FakeActions]]:
    """Our launched Rasa (trained model) calling :class:`FakeActions`."""
    from tests.conftest import _require_model

    _require_model()
    fake = FakeActions()
    tmp: Path = tmp_path_factory.mktemp("fake_actions")
    stack = Stack(env=stack_env(tmp, ACTIONS_PORT=str(fake.port)), logs=tmp)
    try:
        stack.start("rasa")
        stack.wait("rasa")
        yield stack, fake
    finally:
        stack.stop()
        fake.close()


def test_launched_rasa_sends_one_session_and_rolls_long_ones_over(
    rasa_with_fake_actions: tuple[Stack, FakeActions],
) -> None:
    stack, fake = rasa_with_fake_actions
    sender = f"long-{uuid.uuid4().hex}"
    texts = ["我们是省级专精特新", "专精特新增长补贴有多少", "谢谢"]
    sent: list[str] = []
    for i in range(MAX_SESSION_EVENTS):  # a turn logs ~5 events here: rolled over long before
        sent.append(texts[i % len(texts)])
        resp = httpx.post(
            f"{stack.rasa}/webhooks/rest/webhook", json={"sender": sender, "message": sent[-1]}, timeout=60
        )
        resp.raise_for_status()
        assert resp.json()[-1]["text"] == f"答复{len(fake.calls)}"
        sizes = [len(c["tracker"]["events"]) for c in fake.calls[-2:]]
        if sizes[-1] < sizes[0]:
            break
    else:
        pytest.fail(f"no rollover in {len(sent)} turns")
    before, after = fake.calls[-2]["tracker"], fake.calls[-1]["tracker"]
    # The call comes mid-turn: the turn then logs the reply and action_listen, taking the session past
    # the limit, and the next message starts a new one.
    assert MAX_SESSION_EVENTS - 10 < len(before["events"]) <= MAX_SESSION_EVENTS
    for call in fake.calls:  # every call: one session, from its start
        events = call["tracker"]["events"]
        assert events[0]["name"] == "action_session_start"
        assert [e["event"] for e in events].count("session_started") == 1
    # The new session: the carried slots once each, at their values, then the owner's message (whose own
    # entities may set a slot again).
    first_user = next(i for i, e in enumerate(after["events"]) if e["event"] == "user")
    head = [e["name"] for e in after["events"][:first_user] if e["event"] == "slot"]
    assert head
    assert len(head) == len(set(head))
    assert after["slots"]["asked_fact"] == "growth_pct"  # set by the first call, ~40 turns ago
    assert fake.calls[0]["tracker"]["slots"]["zjtx_level"]  # from the NLU entity of the first message
    assert after["slots"]["zjtx_level"] == fake.calls[0]["tracker"]["slots"]["zjtx_level"]
    assert after["slots"]["last_sources"] == [f"p{len(fake.calls) - 1}"]
    assert after["latest_message"]["text"] == sent[-1]
    # Rasa keeps the current session only.
    kept = httpx.get(
        f"{stack.rasa}/conversations/{sender}/tracker", params={"token": stack.env["RASA_TOKEN"]}, timeout=30
    ).json()
    assert len(kept["events"]) < len(before["events"])
    assert [e["event"] for e in kept["events"]].count("session_started") == 1


def test_the_sql_store_writes_and_reads_what_rasas_does(tmp_path: Path) -> None:
    """The leaner SQL store (remembered counts, one multi-row insert, JSON-only reads) leaves the same
    rows as Rasa's SQLTrackerStore over a conversation that spans sessions, and reads back the same
    trackers."""
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.tracker_store import SessionSQLTrackerStore

    stock = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "stock.db"))
    ours = SessionSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "ours.db"))
    third = turn("那股改呢", "ask_policy", "股改资助……", ("last_sources", ["zjtx-reform"]))
    later = [*session_start(("zjtx_level", "省级")), *turn("谢谢", "thank", "不客气")]

    async def converse(store: SQLTrackerStore, saves: int = 1) -> tuple[Any, ...]:
        await store.save(tracker_of(FIRST, "owner"))  # a new conversation: nothing loaded, counted
        for more in (SECOND, third, later):
            tracker = await store.retrieve("owner")
            assert tracker is not None
            for event in more:
                tracker.update(event)
            for _ in range(saves):
                await store.save(tracker)
        current, full = await store.retrieve("owner"), await store.retrieve_full_tracker("owner")
        assert current is not None
        assert full is not None
        with store.session_scope() as session:
            rows = session.query(
                store.SQLEvent.sender_id,
                store.SQLEvent.type_name,
                store.SQLEvent.timestamp,
                store.SQLEvent.intent_name,
                store.SQLEvent.action_name,
                store.SQLEvent.data,
            ).order_by(store.SQLEvent.id)
            return [tuple(r) for r in rows], list(current.events), list(full.events)

    theirs_rows, theirs_current, theirs_full = asyncio.run(converse(stock))
    # Saved twice in a turn, nothing is written twice (stock, counting the stored session, writes the
    # earlier session again when a second save follows a new session's start).
    our_rows, our_current, our_full = asyncio.run(converse(ours, saves=2))
    assert our_rows == theirs_rows
    assert len(our_rows) == len(FIRST + SECOND + third + later)
    assert our_current == theirs_current == later[1:]  # from the session start on, as stock reads it
    assert our_full == theirs_full
    assert asyncio.run(ours.retrieve("nobody")) is None


def test_a_new_conversation_costs_no_count_and_no_empty_write(tmp_path: Path) -> None:
    """A tracker the SQL store creates (after finding none) is saved without counting stored events,
    an unchanged tracker is not written again, and the rows are stock's."""
    from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, TrackerStore

    from bot.tracker_store import SessionSQLTrackerStore

    stock = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "stock.db"))
    ours = SessionSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "ours.db"))
    statements: list[str] = []
    sa.event.listen(ours.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    async def converse(store: TrackerStore) -> list[Any]:
        for append_listen in (True, False):
            sender = f"new-{append_listen}"
            tracker = await store.get_or_create_tracker(sender, append_action_listen=append_listen)
            await store.save(tracker)  # unchanged: nothing to write
            for event in FIRST:
                tracker.update(event)
            await store.save(tracker)
        sql = store if isinstance(store, SQLTrackerStore) else ours
        with sql.session_scope() as session:
            rows = session.query(sql.SQLEvent.sender_id, sql.SQLEvent.data).order_by(sql.SQLEvent.id)
            # A created event's time is the clock's: compare the rest.
            return [(sender, {**json.loads(data), "timestamp": None}) for sender, data in rows]

    theirs = asyncio.run(converse(stock))
    statements.clear()
    # As Rasa runs it: behind its fail-safe wrapper, which creates trackers itself.
    ours_rows = asyncio.run(converse(FailSafeTrackerStore(ours)))
    assert ours_rows == theirs
    assert not any("count(" in s.lower() for s in statements), [
        s for s in statements if "count(" in s.lower()
    ]
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 3  # the listening tracker's first event, then FIRST for each conversation
