"""The facts an owner states in a turn ride on the reply's custom JSON (``facts``), for the firm profile
the gateway keeps (精准推送): stated facts only, never a hypothetical nor an "I don't know"."""

from __future__ import annotations

from typing import Any

import pytest

from actions.respond import ActionRespond
from tests.actions.test_actions import LISTEN, run, state, user_event


def last_custom(text: str, intent: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
    """The custom JSON of the last message action_respond sends for ``text``."""
    _, messages = run(
        ActionRespond(), state("owner-facts", slots or {}, [LISTEN, user_event(text, intent, 1.0)])
    )
    assert messages
    return dict(messages[-1].get("custom") or {})


def test_stated_facts_ride_on_the_last_message() -> None:
    custom = last_custom("我们是省级专精特新，去年增长了百分之三十五", "provide_firm_info")
    assert custom["facts"] == {"zjtx_level": "省级", "growth_pct": 35.0}


def test_facts_join_the_sources_of_an_answer() -> None:
    custom = last_custom("我们已经完成股改了，增长补贴怎么申请", "ask_procedure")
    assert custom["facts"] == {"shareholding_reform": True}
    assert [s["policy_id"] for s in custom["sources"]] == ["zjtx-growth-subsidy"]


@pytest.mark.parametrize(
    ("text", "intent", "facts"),
    [
        ("要是增长三成的话，能拿多少？", "ask_policy", None),  # a condition posed, not the firm's fact
        ("我们是市级专精特新，要是增长三成能拿多少补贴？", "ask_policy", {"zjtx_level": "市级"}),
        ("省级专精特新有什么补贴？", "ask_policy", None),  # a question about others names no fact of ours
    ],
)
def test_hypotheticals_are_never_facts(text: str, intent: str, facts: dict[str, Any] | None) -> None:
    assert last_custom(text, intent).get("facts") == facts


def test_an_answer_of_not_knowing_is_no_fact() -> None:
    custom = last_custom("不清楚", "deny", {"asked_fact": "growth_pct", "zjtx_level": "市级"})
    assert "facts" not in custom
