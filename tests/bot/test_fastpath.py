"""The launcher's caches keep Rasa's behaviour: valid action results pass, invalid ones are still
rejected with Rasa's own message; the events API still refuses malformed events; event classes are
found by name as before."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import jsonschema
import pytest
import rasa.server
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.utils.common import all_subclasses

from bench.stack import Stack
from bot import fastpath

VALID = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "好"}]}
INVALID = [
    {"events": [{"event": "no-such-event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot"}], "responses": [{"text": 5}]},
]


def stock_verdict(result: dict[str, object]) -> str:
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
        return "ok"
    except jsonschema.ValidationError as exc:
        return exc.message


@pytest.mark.usefixtures("patched")
@pytest.mark.parametrize("result", [VALID, *INVALID])
def test_cached_validation_agrees_with_stock(result: dict[str, object]) -> None:
    action = RemoteAction("action_x", None)
    expected = stock_verdict(result)
    if expected == "ok":
        assert action._validate_action_result(result) is True
    else:
        with pytest.raises(jsonschema.ValidationError) as caught:
            action._validate_action_result(result)
        assert caught.value.message.startswith(expected)
        assert "Failed to validate Action server response" in caught.value.message


def test_checking_each_event_by_its_type_agrees_with_stock() -> None:
    """The one-alternative check says valid exactly when stock's full ``oneOf`` validation does."""
    spec = RemoteAction.action_response_format_spec()
    kinds = [alt["properties"]["event"]["const"] for alt in spec["properties"]["events"]["items"]["oneOf"]]
    events: list[Any] = [{"event": kind} for kind in kinds]
    events += [
        {"event": "slot", "name": "last_sources", "value": [{"policy_id": "p1"}], "timestamp": 1.5},
        {"event": "slot", "name": "x"},  # no value
        {"event": "slot", "name": 3, "value": 1},
        {"event": "bot", "text": "好", "data": {"custom": {"sources": []}}, "metadata": {}},
        {"event": "bot", "metadata": "not an object"},
        {"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet", "confidence": 0.9}}},
        {"event": "user", "parse_data": {"intent": {"name": 5}}},
        {"event": "entities", "entities": [{"entity": "level", "value": "省级"}]},
        {"event": "entities", "entities": [{"entity": "level"}]},
        {"event": "action", "name": "action_answer", "confidence": None},
        {"event": "action", "confidence": "high"},
        {"event": "no-such-event"},
        {"event": 7},
        {"name": "x", "value": 1},
        "not an object",
    ]
    results: list[Any] = [{"events": [e], "responses": []} for e in events]
    results += [VALID, *INVALID, {}, {"events": []}, [], {"responses": [{"text": "好"}, 3]}]
    check = fastpath.ActionResultCheck(spec)
    verdicts = [(check(r), stock_verdict(r) == "ok") for r in results]
    assert all(fast == stock for fast, stock in verdicts), [
        (r, v) for r, v in zip(results, verdicts, strict=True) if v[0] != v[1]
    ]
    assert sum(stock for _, stock in verdicts) > len(kinds)  # both kinds of verdict were tried


@pytest.mark.usefixtures("patched")
def test_events_schema_still_enforced() -> None:
    with pytest.raises(jsonschema.ValidationError):
        rasa.server.jsonschema.validate([{"event": "bogus"}], rasa.server.EVENTS_SCHEMA)
    rasa.server.jsonschema.validate([{"event": "resume"}], rasa.server.EVENTS_SCHEMA)


def test_launched_rasa_refuses_malformed_events(stack: Stack) -> None:
    url = f"{stack.rasa}/conversations/fastpath/tracker/events"
    token = {"token": stack.env["RASA_TOKEN"]}
    assert httpx.post(url, params=token, json=[{"event": "bogus"}]).status_code == 400
    assert httpx.post(url, params=token, json=[{"event": "resume"}]).status_code == 200


@pytest.mark.usefixtures("patched")
def test_debug_log_copies_are_made_only_when_debug_logs_are_written() -> None:
    import logging

    import rasa.core.processor

    events = [{"event": "slot", "name": "x", "value": [1, 2]}]
    log = logging.getLogger("rasa")
    before = log.level
    try:
        log.setLevel(logging.INFO)  # setLevel: isEnabledFor caches its answers until the level is set
        assert rasa.core.processor.copy.deepcopy(events) is events
        assert rasa.core.processor.copy.copy(events) == events  # the rest of the module as it was
        log.setLevel(logging.DEBUG)
        copied = rasa.core.processor.copy.deepcopy(events)
    finally:
        log.setLevel(before)
    assert copied == events
    assert copied is not events
    assert copied[0]["value"] is not events[0]["value"]


def test_event_classes_are_resolved_as_stock_does() -> None:
    names = {cls.type_name for cls in all_subclasses(Event)}
    stock = {name: Event.resolve_by_type(name) for name in names}
    cached = fastpath.event_class_cache(Event.resolve_by_type)
    for _ in range(2):  # looked up, then remembered
        assert {name: cached(name, None) for name in names} == stock
    assert cached("topic", None) is None
    assert cached("no-such-event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        cached("no-such-event", None)


def test_action_calls_share_one_kept_alive_connection() -> None:
    """Stock Rasa opens a TCP connection per action call; the pooled request reuses one, with the same
    result and the same errors."""
    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    async def run() -> tuple[list[int], list[int], list[Any]]:
        ports: list[int] = []

        async def webhook(request: web.Request) -> web.Response:
            ports.append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
            body = await request.json()
            if body.get("fail"):
                return web.json_response({"error": "no"}, status=500)
            return web.json_response({"echo": body, "token": request.query.get("token")})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="t0k")
        # Another test may have installed the launcher's patches in this process: start from stock.
        stock = getattr(EndpointConfig.request, "__wrapped__", EndpointConfig.request)
        pooled = fastpath.pooled_request(stock)
        results = [await pooled(endpoint, json={"n": n}) for n in range(3)]
        with pytest.raises(ClientResponseError):
            await pooled(endpoint, json={"fail": True})
        pooled_ports = list(ports)
        ports.clear()
        for n in range(3):
            await stock(endpoint, json={"n": n})
        stock_ports = list(ports)
        await fastpath.shared_session(endpoint).close()
        await runner.cleanup()
        return pooled_ports, stock_ports, results

    pooled_ports, stock_ports, results = asyncio.run(run())
    assert results == [{"echo": {"n": n}, "token": "t0k"} for n in range(3)]
    assert len(pooled_ports) == 4
    assert len(set(pooled_ports)) == 1  # one connection for every call
    assert len(set(stock_ports)) == 3  # stock: a new connection each time
