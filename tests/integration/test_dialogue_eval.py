"""The dialogue evaluation on the held-out part of the development set, through the real stack."""

from __future__ import annotations

from bench.stack import Stack
from bot.eval_dialogue import TARGETS, evaluate, load_cases, summarise

# What the held-out split reaches today, as a floor no change may go below. The targets
# (bot.eval_dialogue.TARGETS: 95% behaviour, 2% misleading) are not all met yet; `make eval-dialogue`
# reports them and exits 1 while they are not. Raise these floors as the figures improve.
# Measured with owners8 to owners20 in the set (1,123 held-out cases): behaviour 90.8%, misleading 2.4%,
# facts+question 90.8%. On the 792 held-out cases of owners8-14 and before, the same code reaches 93.7%,
# misleading 1.9%, facts+question 94.7% (91.7%, 2.4%, 91.7% before the stop that added owners15-20).
# Each batch from owners8 on was evaluated once before any change made for it: owners8 86.9%, owners9
# 91.9%, owners10 89.4%, owners11 88.8%, owners12 (conversations) 77.3%, owners13 (near misses) 80.0%,
# owners14 85.7%, owners15 85.0%, owners16 84.7%, owners17 (long messages) 72.0%, owners18 (long) 77.3%,
# owners19 (follow-ups) 82.7%, owners20 88.7%: the fairest estimates of the bot on questions nobody tuned
# it on. owners15-20 brought 331 harder cases into the held-out part, so the floors went from 0.905 to
# 0.90 (behaviour) and 0.90 to 0.89 (facts+question); they leave a few cases of room for a model retrained
# from scratch (CI trains its own). With owners21 (a month of traffic, 92.0% before changes) and owners22
# (answers against their nearest misses, 86.7%) the held-out part holds 1,234 cases: 91.6% behaviour, 2.2%
# misleading, 91.2% facts+question; its original 1,123 cases went from 91.2% to 91.8% in the same stop.
# owners23 (84.4% on its held-out part before changes), owners24 (89.8%) and owners25 (long stories, voice input and
# follow-ups: 81.6%) bring the held-out part to 1,396 cases: 91.6% behaviour, 2.2% misleading, 91.8% facts+question.
# Those 1,396 reach 92.0% after the politeness, voice-input and story fixes found by rewriting passing dev cases;
# owners26 (a fortnight of traffic, 100% on its held-out part before changes) and owners27 (answers by effect
# against their nearest misses, 84.4%) bring it to 1,489 cases: 92.0% behaviour, 2.1% misleading, 92.1% f+q.
# owners28 (what records state against their nearest misses, 83.6% before changes) brings 1,550 cases: 91.7%
# before and 92.3% after this stop's story, voice-input and politeness fixes, 2.1% misleading, 93.8% f+q.
# owners29 (first-time widget visitors: formal 留言, keyword searches, 繁體; 89.6% before changes) brings 1,598
# cases: 92.2% before and 92.5% after the courtesy, keyword-search and question-after-a-story fixes, 2.1%
# misleading, 93.9% f+q.
FLOORS = {"behaviour": 0.90, "misleading": 0.030, "facts_plus_question_same_turn": 0.89}


def test_held_out_dialogues_hold_the_floors_and_the_met_targets(stack: Stack) -> None:
    cases = [c for c in load_cases() if c["split"] == "heldout"]
    assert len(cases) >= 200  # about a third of a development set of over 700 messages
    summary = summarise(evaluate(stack.gateway, cases))
    assert summary["behaviour"] >= FLOORS["behaviour"], summary
    assert summary["misleading"] <= FLOORS["misleading"], summary
    assert summary["facts_plus_question_same_turn"] >= FLOORS["facts_plus_question_same_turn"], summary
    assert summary["facts"] >= TARGETS["facts"], summary  # every expected fact in ≥ 95% of answers: met
    assert summary["invented"] == TARGETS["invented"], summary  # no number from nowhere: met


def test_the_set_is_large_and_varied_enough_to_mean_something() -> None:
    cases = load_cases()
    assert len(cases) >= 200
    labels = {c["expect"] for c in cases}
    assert labels >= {"answer", "verdict", "not_in_letter", "out_of_scope", "handoff", "smalltalk"}
    real = [c for c in cases if c["source"].startswith("http")]
    assert len(real) >= 50  # questions copied from public message boards, each with its address
    assert len({c["id"] for c in cases}) == len(cases)
    assert {c["split"] for c in cases} == {"dev", "heldout"}
