"""Firm facts parsed from owners' words, and verdicts of the letter's conditions on real records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import uscc

from knowledge.facts import UNKNOWN, extract_facts, parse_industry
from knowledge.records import Policy, load_policies
from knowledge.rules import MATCH, NO_MATCH, UNDECIDED, Verdict, evaluate, next_missing

ROOT = Path(__file__).resolve().parents[2]
POLICIES_DIR = ROOT / "knowledge" / "policies"

# (message, requested slot, intent, expected Facts.values)
FACT_CASES: list[tuple[str, str | None, str | None, dict[str, Any]]] = [
    ("我们是省级专精特新，去年增长了百分之三十五", None, None, {"zjtx_level": "省级", "growth_pct": 35.0}),
    ("我們是市級專精特新，打算股改", None, None, {"zjtx_level": "市级", "shareholding_reform": True}),
    ("没有做数字化改造", None, None, {"digital_project": False}),
    # a level that opens another measure's name is that measure's, not the firm's
    ("省级工业互联网标杆企业项目 中山 数量", None, None, {}),
    ("省级，增长了四成", None, None, {"zjtx_level": "省级", "growth_pct": 40.0}),
    ("今年股东决定做股份制改造", None, None, {"shareholding_reform": True}),  # a decision is a plan
    ("是的", "shareholding_reform", "affirm", {"shareholding_reform": True}),
    ("没有做", "shareholding_reform", "deny", {"shareholding_reform": False}),
    ("没有", "zjtx_level", "deny", {"zjtx_level": "无"}),
    ("不清楚", "growth_pct", None, {"growth_pct": UNKNOWN}),
    ("35%", "growth_pct", None, {"growth_pct": 35.0}),
    ("营收比去年涨了3成", None, None, {"growth_pct": 30.0}),
    ("翻了一番", None, None, {"growth_pct": 100.0}),
    ("去年营收下降了10%", None, None, {"growth_pct": -10.0}),
    ("旧年营收八千万，今年一亿一千万", None, None, {"growth_pct": 37.5, "revenue_wan": 8000.0}),
    ("营收由五千万去到七千万", None, None, {"growth_pct": 40.0, "revenue_wan": 5000.0}),
    ("营收由一千万升至一千四百万", None, None, {"growth_pct": 40.0, "revenue_wan": 1000.0}),
    ("我们不是专精特新", None, None, {"zjtx_level": "无"}),
    ("我们是国家级小巨人", None, None, {"zjtx_level": "国家级小巨人"}),
    ("做灯饰的，年营收两千万", None, None, {"industry": "灯饰", "revenue_wan": 2000.0}),
    ("今天天气不错", None, None, {}),
]
# A bare "no" answers the yes/no question the bot asked, and says nothing about the 专精特新 level.
BARE_DENIALS = [("没有", "shareholding_reform"), ("不是", "manufacturing"), ("都没有", "apprenticeship")]
# Growth as owners say it in words: 三成 = 30%, 百分之百 = 100%.
GROWTH_IN_WORDS = [
    ("营收比去年涨了三成", 30.0),
    ("今年增长了两成", 20.0),
    ("销售额增长了百分之百", 100.0),
    ("业绩又涨够三成", 30.0),
    ("营收成长了百分之四十", 40.0),
    ("营收增长到四成", 40.0),
]
# A valid 统一社会信用代码 is built from a 17-character base of the USCC alphabet.
USCC_BASE = "91442000MA4UQ8XXX"
USCC_VALID = USCC_BASE + uscc.calc_check_digit(USCC_BASE)
USCC_WRONG = USCC_BASE + ("0" if USCC_VALID[-1] != "0" else "1")


def policies() -> list[Policy]:
    return load_policies(POLICIES_DIR)


def record_reading(fact: str) -> Policy:
    """The one record whose conditions read ``fact`` (exactly one is expected)."""
    found = [p for p in policies() if p.conditions and fact in str(p.conditions)]
    assert len(found) == 1, [p.id for p in found]
    return found[0]


def growth_record() -> Policy:
    return record_reading("growth_pct")


def reform_record() -> Policy:
    return record_reading("shareholding_reform")


def all_rules() -> dict[str, dict[str, Any]]:
    return {p.id: p.conditions for p in policies() if p.conditions}


@pytest.mark.parametrize(("text", "requested", "intent", "expected"), FACT_CASES)
def test_extract_facts(
    text: str, requested: str | None, intent: str | None, expected: dict[str, Any]
) -> None:
    facts = extract_facts(text, requested=requested, intent=intent)
    assert (facts.values, facts.uscc_error) == (expected, None)


def test_affirm_without_a_question_states_nothing() -> None:
    assert extract_facts("是的", intent="affirm").values == {}


def test_a_valid_credit_code_is_stored() -> None:
    assert uscc.is_valid(USCC_VALID)
    facts = extract_facts(f"我们的统一社会信用代码是{USCC_VALID}")
    assert (facts.values, facts.uscc_error) == ({"uscc": USCC_VALID}, None)


def test_a_lower_case_credit_code_is_stored_upper_case() -> None:
    facts = extract_facts(f"信用代码 {USCC_VALID.lower()}")
    assert facts.values == {"uscc": USCC_VALID}


def test_a_wrong_check_digit_is_explained() -> None:
    facts = extract_facts(f"统一社会信用代码：{USCC_WRONG}")
    assert facts.values == {}
    assert facts.uscc_error is not None
    assert "校验码" in facts.uscc_error
    assert USCC_WRONG in facts.uscc_error


def test_growth_subsidy_matches_a_provincial_firm_growing_35() -> None:
    rec = growth_record()
    verdict = evaluate(rec.id, rec.conditions or {}, {"zjtx_level": "省级", "growth_pct": 35.0})
    assert verdict == Verdict(
        rec.id, MATCH, ["专精特新认定级别：省级", "较上一年增长率35%，达到答复函要求的30%"], []
    )


def test_growth_subsidy_rejects_a_provincial_firm_growing_20() -> None:
    rec = growth_record()
    verdict = evaluate(rec.id, rec.conditions or {}, {"zjtx_level": "省级", "growth_pct": 20.0})
    assert verdict == Verdict(rec.id, NO_MATCH, ["较上一年增长率20%，低于答复函要求的30%"], [])


def test_growth_subsidy_needs_the_growth_rate() -> None:
    rec = growth_record()
    verdict = evaluate(rec.id, rec.conditions or {}, {"zjtx_level": "省级"})
    assert verdict == Verdict(rec.id, UNDECIDED, ["尚不清楚较上一年增长率"], ["growth_pct"])


def test_growth_subsidy_with_unknown_growth_does_not_ask_again() -> None:
    rec = growth_record()
    verdict = evaluate(rec.id, rec.conditions or {}, {"zjtx_level": "省级", "growth_pct": UNKNOWN})
    assert (verdict.status, verdict.missing) == (UNDECIDED, [])


def test_shareholding_reform_is_undecided_for_provincial_firms() -> None:
    rec = reform_record()
    verdict = evaluate(rec.id, rec.conditions or {}, {"zjtx_level": "省级", "shareholding_reform": True})
    assert (verdict.policy_id, verdict.status, verdict.missing) == (rec.id, UNDECIDED, [])
    assert len(verdict.reasons) == 1
    assert verdict.reasons[0].startswith("专精特新认定级别为省级，答复函未明确该情形是否适用")


def test_shareholding_reform_for_provincial_firm_without_reform_answer_asks_it() -> None:
    rec = reform_record()
    verdict = evaluate(rec.id, rec.conditions or {}, {"zjtx_level": "省级"})
    assert (verdict.status, verdict.missing) == (UNDECIDED, ["shareholding_reform"])


def test_shareholding_reform_matches_a_municipal_firm_reforming() -> None:
    rec = reform_record()
    verdict = evaluate(rec.id, rec.conditions or {}, {"zjtx_level": "市级", "shareholding_reform": True})
    assert verdict == Verdict(rec.id, MATCH, ["专精特新认定级别：市级", "实施股份制改造：是"], [])


def test_next_missing_asks_level_before_growth() -> None:
    wanted = next_missing(all_rules(), {})
    assert "zjtx_level" in wanted
    assert "growth_pct" in wanted
    assert wanted[0] == "zjtx_level"
    assert wanted.index("zjtx_level") < wanted.index("growth_pct")


def test_next_missing_drops_growth_once_the_firm_is_not_zjtx() -> None:
    wanted = next_missing(all_rules(), {"zjtx_level": "无"})
    assert "zjtx_level" not in wanted
    assert "growth_pct" not in wanted


def test_facts_from_a_message_feed_a_verdict() -> None:
    rec = growth_record()
    firm = extract_facts("我们是省级专精特新，去年增长了百分之三十五").values
    assert evaluate(rec.id, rec.conditions or {}, firm).status == MATCH


@pytest.mark.parametrize(("text", "requested"), BARE_DENIALS)
def test_a_bare_denial_answers_only_the_asked_question(text: str, requested: str) -> None:
    assert extract_facts(text, requested=requested, intent="deny").values == {requested: False}


@pytest.mark.parametrize(("text", "growth"), GROWTH_IN_WORDS)
def test_growth_stated_in_chinese_numerals(text: str, growth: float) -> None:
    assert extract_facts(text).values == {"growth_pct": growth}


def test_reasons_name_the_records_own_source() -> None:
    conditions = {"all": [{"fact": "growth_pct", "op": ">=", "value": 30}]}
    verdict = evaluate("equipment-renewal-2026", conditions, {"growth_pct": 20}, "中工信〔2026〕12号")
    assert verdict.reasons == ["较上一年增长率20%，低于中工信〔2026〕12号要求的30%"]
    assert evaluate("x", conditions, {"growth_pct": 20}).reasons == ["较上一年增长率20%，低于答复函要求的30%"]


def test_what_the_letter_leaves_open_for_a_named_value() -> None:
    from knowledge.rules import left_open

    reform = {
        "all": [
            {"fact": "zjtx_level", "op": "in", "value": ["市级"], "unknown_values": ["省级"]},
            {"fact": "shareholding_reform", "op": "==", "value": True},
        ]
    }
    assert left_open(reform, {"zjtx_level": "省级"}) == "专精特新认定级别为省级的企业能否适用"
    assert left_open(reform, {"zjtx_level": "市级"}) is None
    assert left_open({"any": [reform]}, {"zjtx_level": "省级"}) is not None
    assert left_open(None, {"zjtx_level": "省级"}) is None


@pytest.mark.parametrize(
    ("message", "industry"),
    [
        ("我们是一家服装厂", "其他"),  # a trade the letter's clusters do not name
        ("我哋系间注塑厂", "其他"),
        ("我们是一家民营企业", None),  # ownership, not a trade
        ("我们是一家新成立的公司", None),
        ("我们是一家灯饰厂", "灯饰"),
    ],
)
def test_what_the_firm_is_names_its_trade(message: str, industry: str | None) -> None:
    facts = extract_facts(message).values
    assert facts.get("industry") == industry
    assert "firm_name" not in facts  # "1家贸易公司" is no name


@pytest.mark.parametrize(
    ("text", "industry"),
    [
        ("我们做小家电的", "小家电"),  # (小家电 is not 家电 as well)
        ("我们做橱卫产品的", "厨卫"),
        ("灯饰小家电厨卫那个上云试点我们能参加吗", None),  # a measure's list, not the firm's trade
        ("五金、家电、灯具、板式家具那个组合支持", None),
    ],
)
def test_one_trade_named_is_the_firms_and_a_list_of_them_a_measures(text: str, industry: str | None) -> None:
    assert parse_industry(text) == industry
