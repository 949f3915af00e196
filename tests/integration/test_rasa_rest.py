"""The real `rasa run` (trained model) and action server, conversed with over Rasa's REST channel."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from bench.stack import Stack

# question → (a record id that must be cited, a section that must appear in the text)
POLICY_FAMILIES = {
    "专精特新企业增长30%有什么补贴": ("zjtx-growth-subsidy", "三（二）"),
    "跟中国银行合作的专精特新融资活动是怎么回事": ("zjtx-boc-cloud-matching", "三（三）"),
    "企业新型学徒制培训有补贴吗": ("new-apprenticeship", "四（四）"),
    "数字化转型银行贷款贴息有相关细则吗": ("rules-loan-interest-risk", "一（一）"),
    "揭榜制项目去年立项了几个": ("jiebang-projects", "二（二）"),
    "工业设计中心认定了多少家": ("industrial-design-centers", "二（二）"),
    "企业开办现在要多长时间能办完": ("business-startup-1day", "四（一）2"),
    "市里的产业投资基金规模有多大": ("industry-investment-fund", "四（三）"),
    "中山市政府质量奖有多少企业获评": ("government-quality-award", "四（五）"),
}


def say(stack: Stack, sender: str, text: str) -> list[dict[str, Any]]:
    """One turn over the REST channel; returns Rasa's raw output messages."""
    resp = httpx.post(
        f"{stack.rasa}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    resp.raise_for_status()
    return list(resp.json())


def texts(outputs: list[dict[str, Any]]) -> str:
    return "\n".join(o.get("text", "") for o in outputs)


def sources(outputs: list[dict[str, Any]]) -> list[str]:
    return [s["policy_id"] for o in outputs for s in (o.get("custom") or {}).get("sources", [])]


@pytest.mark.parametrize(("question", "expected"), list(POLICY_FAMILIES.items()))
def test_policy_family_answers_are_cited(stack: Stack, question: str, expected: tuple[str, str]) -> None:
    policy_id, section = expected
    out = say(stack, f"rest-{uuid.uuid4().hex}", question)
    assert policy_id in sources(out), texts(out)
    assert f"依据：答复函 {section}" in texts(out)


def test_growth_subsidy_quotes_the_letters_figure(stack: Stack) -> None:
    out = say(stack, f"rest-{uuid.uuid4().hex}", "專精特新企業增長百分之三十有什麼補貼")
    assert "10-100 万元" in texts(out)
    assert "zjtx-growth-subsidy" in sources(out)


def test_eligibility_verdict_with_facts_up_front_in_one_turn(stack: Stack) -> None:
    out = say(
        stack, f"rest-{uuid.uuid4().hex}", "我们是省级专精特新，去年增长了百分之三十五，能申请增长补贴吗"
    )
    text = texts(out)
    assert "符合" in text
    assert "✅" in text
    assert "较上一年增长率35%" in text
    assert "我市对专精特新企业较上一年增长 30%的" in text


def test_eligibility_step_by_step_reaches_a_verdict_with_reasons(stack: Stack) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    first = say(stack, sender, "我们企业能不能拿股份制改造的资助")
    assert "❔【专精特新股份制改造资助】信息不足" in texts(first)  # the verdict so far, first
    assert texts(first).splitlines()[-1] == "贵企业是否已认定为专精特新企业？是哪一级？"  # then one question
    second = texts(say(stack, sender, "省级的"))
    assert "答复函未明确" in second  # 省级 is not named by the letter: decided as 信息不足 at once
    assert "信息不足" in second


def test_match_policies_lists_matches_best_first(stack: Stack) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    say(
        stack, sender, "我们是市级专精特新，去年增长了40%，打算股改，做五金的，正在做数字化改造，是制造业企业"
    )
    out = say(stack, sender, "我们公司能享受哪些政策")
    text = texts(out)
    assert text.startswith("按您说的情况，贵企业符合：")  # decided verdicts at once, before any question
    assert text.count("？") <= 1  # then at most one question
    assert text.index("专精特新股份制改造资助") < text.index("专精特新企业增长补贴")  # 200万 before 100万


def test_procedure_question_is_declined_honestly_with_offer(stack: Stack) -> None:
    out = say(stack, f"rest-{uuid.uuid4().hex}", "增长补贴要交哪些申请材料，什么时候截止")
    text = texts(out)
    assert "答复函没有写明" in text
    assert any(b["payload"] == "/request_human" for o in out for b in o.get("buttons", []))


@pytest.mark.parametrize("question", ["住房公积金怎么提取", "深圳市有什么人才补贴", "附近哪个公园好玩"])
def test_off_topic_is_declined(stack: Stack, question: str) -> None:
    out = say(stack, f"rest-{uuid.uuid4().hex}", question)
    text = texts(out)
    assert sources(out) == []
    assert "不在我能解答的范围" in text or "没有涉及" in text


def test_invalid_credit_code_gets_a_clear_reply(stack: Stack) -> None:
    out = say(stack, f"rest-{uuid.uuid4().hex}", "我们公司的统一社会信用代码是91442000MA4W0A1B2A")
    assert "校验码不对" in texts(out)


def test_asking_for_a_person_hands_off_with_a_packet(stack: Stack) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    say(stack, sender, "专精特新增长补贴有多少")
    out = say(stack, sender, "我要找工作人员")
    assert "已为您转接" in texts(out)
    tracker = httpx.get(
        f"{stack.rasa}/conversations/{sender}/tracker", params={"token": stack.env["RASA_TOKEN"]}, timeout=30
    ).json()
    assert tracker["events"][-1]["event"] == "pause" or any(
        e["event"] == "pause" for e in tracker["events"][-3:]
    )
