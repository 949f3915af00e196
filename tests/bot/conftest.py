"""Rasa patched by our launcher for one test, and as it was afterwards."""

from __future__ import annotations

import pytest
import rasa.core.policies.memoization
import rasa.core.policies.rule_policy
import rasa.core.processor
import rasa.server
from rasa.core.actions.action import ActionSessionStart, RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import Event

from bot import fastpath

# Everything bot.fastpath.install() replaces.
PATCHED = (
    (RemoteAction, "_validate_action_result"),
    (RemoteAction, "_action_call_format"),
    (ActionSessionStart, "_slot_set_events_from_tracker"),
    (MessageProcessor, "_has_session_expired"),
    (Event, "resolve_by_type"),
)


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bot.fastpath.install()`` for the test; monkeypatch puts Rasa back afterwards."""
    for owner, name in PATCHED:
        monkeypatch.setattr(owner, name, vars(owner)[name])  # vars(): keep staticmethod wrappers
    monkeypatch.setattr(rasa.server, "jsonschema", rasa.server.jsonschema)
    for module in (rasa.core.processor, rasa.core.policies.memoization, rasa.core.policies.rule_policy):
        monkeypatch.setattr(module, "copy", module.copy)
    fastpath.install()
