"""Property tests (hypothesis): normalisation, credit codes and number parsing never crash and
keep their promises on any input."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc

from knowledge.facts import extract_facts, parse_amount_wan, parse_growth, uscc_problem
from knowledge.text import normalize

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CN_DIGITS = "零一二两三四五六七八九"
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
mixed = st.text(
    alphabet=st.sampled_from(
        list("专精特新增长补贴百分之三十五两千万一二十零点,。%％０１２３４５６７８９ 企业們這個補貼")
        + ["\u3000", "\x07"]
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_normalize_is_idempotent_and_clean(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert not any(unicodedata.category(ch)[0] == "C" and ch not in "\n\t" for ch in once)
    assert once == once.strip()


@settings(max_examples=300, deadline=None)
@given(mixed)
def test_normalize_leaves_no_full_width_digits(text: str) -> None:
    assert not re.search("[０-９％]", normalize(text))


@given(st.integers(min_value=0, max_value=9999))
def test_chinese_percentages_read_as_arabic(value: int) -> None:
    import cn2an

    chinese = cn2an.an2cn(value)
    assert normalize(f"增长百分之{chinese}") == f"增长{value}%"
    assert parse_growth(normalize(f"较上一年增长了百分之{chinese}")) == float(value)


@given(st.integers(min_value=1, max_value=99999), st.sampled_from(["万", "万元", "亿", "亿元", "元"]))
def test_amounts_in_wan(value: int, unit: str) -> None:
    expected = value * 10000 if unit.startswith("亿") else value / 10000 if unit == "元" else value
    assert parse_amount_wan(f"营收{value}{unit}") == expected


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_credit_codes_validate_exactly_when_the_check_character_fits(base: str) -> None:
    good = base + uscc.calc_check_digit(base)
    try:
        uscc.validate(good)
    except Exception:  # noqa: BLE001 - stdnum also checks the embedded organisation code
        return
    assert uscc_problem(good) is None
    for wrong in ALPHABET:
        if wrong != good[-1]:
            assert uscc_problem(base + wrong) is not None
            break
    facts = extract_facts(f"统一社会信用代码{base + wrong}")
    assert "uscc" not in facts.values
    assert facts.uscc_error


@settings(max_examples=300, deadline=None)
@given(
    texts,
    st.sampled_from([None, "zjtx_level", "growth_pct", "industry", "shareholding_reform"]),
    st.sampled_from([None, "affirm", "deny", "provide_firm_info"]),
)
def test_fact_extraction_never_crashes_and_stays_in_range(
    text: str, requested: str | None, intent: str | None
) -> None:
    values = extract_facts(text, requested=requested, intent=intent).values
    assert values.get("zjtx_level", "无") in ("市级", "省级", "国家级小巨人", "单项冠军培育", "无", "unknown")
    growth = values.get("growth_pct")
    assert growth is None or growth == "unknown" or isinstance(growth, float)
