"""Rasa fixes our launcher installs.

Validate JSON with pre-built validators. Stock Rasa 3.6 calls ``jsonschema.validate()`` on every
custom-action response (and on every events-API request), which re-checks the schema against its
metaschema each time: most of Rasa's CPU per custom-action turn. ``jsonschema.validate`` is exactly
``check_schema`` + build a validator + ``best_match(iter_errors())``; we do the first two once, so
results and errors stay identical.

Check an action result's events by their type. Each event must match exactly one of the ``oneOf``
alternatives of Rasa's event schema, one per event type, told apart by ``event``'s ``const``: a
validator checks all 23 alternatives for every event. An event with a ``event`` string can only match
the alternative of its own type, so checking that one (and the schema's other keywords) gives the same
verdict; anything that fails is validated again in full, for Rasa's own error.

Look event classes up by name once. Stock ``Event.resolve_by_type`` walks every subclass of
``Event`` (checking each for abstract methods) for every event it deserialises: a tenth of Rasa's CPU
in a long session, whose every event is read back from the tracker store on each turn.

Keep a turn's cost independent of the conversation's length (see :mod:`bot.tracker_store`):
- an action call carries the events of the current session only (stock sends every event the tracker
  holds, ``EventVerbosity.ALL``); slots, latest message and the rest of the state are unchanged;
- a session longer than ``MAX_SESSION_EVENTS`` counts as expired, so the next message starts a new
  one with the slots carried over, as an idle session's does;
- a new session carries each slot once, at its current value (stock repeats every ``SlotSet`` of the
  old session, carried ones included, so sessions would grow with each rollover).

Copy for debug logs only when they are written: Rasa's processor and two of its policies pass
``copy.deepcopy`` of the turn's events, entities and dialogue states to ``structlogger.debug`` on
every message, and Python evaluates the copies even when nothing is logged. Those modules use ``copy``
for nothing else; with debug logging on they copy as before.

Keep the connection to the action server alive: stock ``EndpointConfig.request`` opens an aiohttp session,
so a new TCP connection, for every action call; one session per endpoint and event loop reuses it.
"""

from __future__ import annotations

import copy
import logging
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

if TYPE_CHECKING:  # Rasa itself is imported by install(), once the launcher is about to run it
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

_CACHE: dict[int, tuple[Any, Any]] = {}


def cached_validate(instance: Any, schema: dict[str, Any]) -> None:
    """``jsonschema.validate`` with the validator for ``schema`` built once per schema object."""
    entry = _CACHE.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, _validator(schema))
        _CACHE[id(schema)] = entry
    error = best_match(entry[1].iter_errors(instance))
    if error is not None:
        raise error


class ActionResultCheck:
    """Whether an action result is valid under Rasa's action response schema, checking each event
    against its own type's alternative of the event schema's ``oneOf`` only (see the module's doc)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        events = spec["properties"]["events"]
        event = events["items"]
        # The result with its events' items left unchecked, then each event: the event schema's own
        # keywords, and its type's alternative.
        self.top = _validator(
            {**spec, "properties": {**spec["properties"], "events": {**events, "items": {}}}}
        )
        self.common = _validator({k: v for k, v in event.items() if k != "oneOf"})
        self.kinds: dict[str, Any] = {}
        for alternative in event["oneOf"]:
            kind = alternative["properties"]["event"]["const"]
            assert kind not in self.kinds, f"two alternatives for {kind}: oneOf would refuse both"
            self.kinds[kind] = _validator(alternative)

    def __call__(self, result: Any) -> bool:
        """True when valid; False when it is not or this check cannot tell (validate in full then)."""
        if not self.top.is_valid(result):
            return False
        for event in result.get("events") or ():
            if not self.common.is_valid(event):
                return False
            kind = self.kinds.get(event["event"])
            if kind is None or not kind.is_valid(event):
                return False
        return True


def _validator(schema: dict[str, Any]) -> Any:
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def event_class_cache(
    resolve: Callable[[str, type[Event] | None], type[Event] | None],
) -> Callable[[str, type[Event] | None], type[Event] | None]:
    """``Event.resolve_by_type`` remembering each class it finds by its name (unknown names, the
    ``default`` and the legacy ``topic`` still go through ``resolve``, with its errors)."""
    known: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = known.get(type_name)
        if cls is None:
            cls = resolve(type_name, default)
            if cls is not None and cls is not default and cls.type_name == type_name:
                known[type_name] = cls
        return cls

    return resolve_by_type


def action_call_format(action: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """``RemoteAction._action_call_format`` with the current session's events only."""
    import rasa
    from rasa.shared.core.trackers import EventVerbosity

    from bot.tracker_store import current_session

    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in current_session(tracker)]
    result = {
        "next_action": action.name(),
        "sender_id": tracker.sender_id,
        "tracker": state,
        "version": rasa.__version__,
    }
    if not action._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
        action.name()
    ):
        result["domain"] = domain.as_dict()
    return result


def carried_slots(tracker: DialogueStateTracker) -> list[SlotSet]:
    """One ``SlotSet`` per slot set in the session, at its latest value, in the order last set."""
    from rasa.shared.core.events import SlotSet

    latest: dict[str, SlotSet] = {}
    for event in tracker.applied_events():
        if isinstance(event, SlotSet):
            latest.pop(event.key, None)
            latest[event.key] = SlotSet(key=event.key, value=event.value, metadata=event.metadata)
    return list(latest.values())


class DebugLogCopies:
    """The ``copy`` module for Rasa modules that deep-copy only what they pass to debug logs: the
    object itself unless the ``rasa`` logger writes debug messages."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if logging.getLogger("rasa").isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value, memo)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def install() -> None:
    """Patch Rasa: cached validators for action results and the events API; deep copies for debug
    logs only when they are written; event classes looked up once; action calls with the current
    session only; long sessions rolled over; carried slots once each."""
    import rasa.server
    from rasa.core.actions.action import ActionSessionStart, RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import Event
    from rasa.utils.endpoints import EndpointConfig

    from bot.tracker_store import session_is_long

    spec = RemoteAction.action_response_format_spec()
    original = RemoteAction._validate_action_result

    valid = ActionResultCheck(spec)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if valid(result):
            return True
        try:
            cached_validate(result, spec)
        except jsonschema.ValidationError:
            # Let Rasa's own method build its exact error message for the invalid result.
            return bool(original(self, result))
        return True

    RemoteAction._validate_action_result = _validate_action_result
    rasa.server.jsonschema = types.SimpleNamespace(
        validate=cached_validate, ValidationError=jsonschema.ValidationError
    )

    import rasa.core.policies.memoization
    import rasa.core.policies.rule_policy
    import rasa.core.processor

    for module in (rasa.core.processor, rasa.core.policies.memoization, rasa.core.policies.rule_policy):
        module.copy = DebugLogCopies()
    Event.resolve_by_type = staticmethod(event_class_cache(Event.resolve_by_type))
    RemoteAction._action_call_format = action_call_format
    ActionSessionStart._slot_set_events_from_tracker = staticmethod(carried_slots)
    has_expired = MessageProcessor._has_session_expired

    def _has_session_expired(self: MessageProcessor, tracker: DialogueStateTracker) -> bool:
        return bool(has_expired(self, tracker)) or session_is_long(tracker)

    MessageProcessor._has_session_expired = _has_session_expired
    if not hasattr(EndpointConfig.request, "__wrapped__"):  # installed once, however often called
        EndpointConfig.request = pooled_request(EndpointConfig.request)


# Idle connections to the action server close after this, below its own keep-alive (sanic's 5 s), so a
# request never goes out on a connection the server is about to close.
KEEPALIVE_S = 3.0
_SESSIONS: dict[tuple[int, int], Any] = {}


def shared_session(endpoint: Any) -> Any:
    """One aiohttp session per endpoint and event loop, configured as ``EndpointConfig.session()``
    configures each of stock's throw-away ones, so its connections are kept alive between calls."""
    import asyncio

    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

    key = (id(asyncio.get_running_loop()), id(endpoint))
    session = _SESSIONS.get(key)
    if session is None or session.closed:
        auth = (
            aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
            if endpoint.basic_auth
            else None
        )
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
        )
        _SESSIONS[key] = session
    return session


def pooled_request(original: Callable[..., Any]) -> Callable[..., Any]:
    """``EndpointConfig.request`` on the endpoint's shared session (stock opens a session, so a TCP
    connection, per call); same headers, parameters, errors and result. With a ``cafile`` the stock
    method runs."""

    async def request(
        self: Any,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        if self.cafile:
            return await original(self, method, subpath, content_type, compress, **kwargs)
        from aiohttp.client_exceptions import ContentTypeError
        from rasa.utils.endpoints import ClientResponseError, concat_url

        headers = {"Content-Type": content_type} if content_type else {}
        headers.update(kwargs.pop("headers", None) or {})
        headers.update(self.headers or {})
        async with shared_session(self).request(
            method,
            concat_url(self.url, subpath),
            headers=headers,
            params=self.combine_parameters(kwargs),
            compress=compress,
            **kwargs,
        ) as response:
            if response.status >= 400:
                raise ClientResponseError(response.status, response.reason, await response.content.read())
            try:
                return await response.json()
            except ContentTypeError:
                return None

    request.__wrapped__ = original  # type: ignore[attr-defined]  # the stock method, for tests
    return request
