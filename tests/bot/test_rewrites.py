"""The label-keeping rewrites of `make eval-dialogue REWRITE=…`."""

from __future__ import annotations

from bot.eval_dialogue import REWRITES, rewritten


def test_rewrites_change_the_last_message_only_and_keep_figures() -> None:
    case = {"id": "x-1", "turns": ["我们是市级的", "营收1.2亿，增长了2.5%？"], "expect": "verdict"}
    (voice,) = rewritten([case], "voice")
    assert voice["turns"] == ["我们是市级的", "营收1.2亿增长了2.5%"]  # a decimal point is no pause
    assert rewritten([case], "polite")[0]["turns"][-1] == "您好，打扰一下，营收1.2亿，增长了2.5%？ 谢谢！"
    assert REWRITES["traditional"]("专精特新企业") == "專精特新企業"
    assert case["turns"][-1] == "营收1.2亿，增长了2.5%？"  # the case itself is left as it was


def test_a_story_is_put_only_before_single_messages_whose_label_it_keeps() -> None:
    answer = {"id": "x-2", "turns": ["股改资助多少"], "expect": "answer"}
    verdict = {"id": "x-3", "turns": ["我们是市级专精特新，增长40%"], "expect": "verdict"}
    follow_up = {"id": "x-4", "turns": ["股改资助多少", "省级呢"], "expect": "not_in_letter"}
    kept = rewritten([answer, verdict, follow_up], "story")
    assert [c["id"] for c in kept] == ["x-2"]
    assert kept[0]["turns"][0].endswith("股改资助多少")
    assert kept[0]["turns"][0].startswith("我们厂")


def test_a_message_the_rewrite_empties_is_not_sent() -> None:
    bare = {"id": "x-3", "turns": ["？"], "expect": "smalltalk"}
    assert rewritten([bare], "voice") == []
    assert len(rewritten([bare], "polite")) == 1
