"""The dialogue evaluation on the held-out part of the development set, through the real stack."""

from __future__ import annotations

from bot.eval_dialogue import evaluate, load_cases, meets_targets, summarise
from tests.stack import Stack


def test_held_out_dialogues_meet_the_targets(stack: Stack) -> None:
    cases = [c for c in load_cases() if c["split"] == "heldout"]
    assert len(cases) >= 70  # a third of a development set of at least 200 messages
    summary = summarise(evaluate(stack.gateway, cases))
    assert meets_targets(summary) == [], summary
    assert summary["facts_plus_question_same_turn"] >= 0.95, summary


def test_the_set_is_large_and_varied_enough_to_mean_something() -> None:
    cases = load_cases()
    assert len(cases) >= 200
    labels = {c["expect"] for c in cases}
    assert labels >= {"answer", "verdict", "not_in_letter", "out_of_scope", "handoff"}
    real = [c for c in cases if c["source"].startswith("http")]
    assert len(real) >= 50  # questions copied from public message boards, each with its address
    assert len({c["id"] for c in cases}) == len(cases)
