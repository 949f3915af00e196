"""The curated records against the letter they quote, and against the retrieval evaluation set."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import cn2an
import pytest
import yaml

from knowledge.records import Policy, load_policies

ROOT = Path(__file__).resolve().parents[2]
POLICIES_DIR = ROOT / "knowledge" / "policies"
LETTER_PATH = ROOT / "knowledge" / "sources" / "letter-2022-38.txt"
SHARED_LETTER_PATH = Path("/work/shared/source/letter-2022-38.txt")
EVAL_PATH = ROOT / "tests" / "data" / "retrieval_eval.jsonl"

ALLOWED_CATEGORIES = {
    "eligibility",
    "financing",
    "talent",
    "digital_transformation",
    "cluster",
    "innovation",
    "industrial_design",
    "business_environment",
    "investment_fund",
    "quality_ip",
    "contact",
}
MIN_RECORDS = 35
MIN_EVAL_QUESTIONS = 100
# A quote shorter than this is too little to count as covering a longer sentence it sits in.
MIN_COVERING_QUOTE = 10
# The letter writes rough figures as '320 多万元' or '30 余场次'.
APPROX = "(?:多|余)?"
# (value in 万元, a quote fragment) pairs the converter must recognise, both units and both scripts.
WRITTEN_EXAMPLES = [
    ({"min": 260000, "max": 260000}, "中山中行对公普惠金融贷款新增 26 亿元"),
    ({"min": 203500, "max": 203500}, "新增贷款支持 20.35 亿元"),
    ({"min": 10, "max": 100}, "给予 10-100 万元的财政资金补贴"),
    ({"max": 200}, "给予最高不超过 200 万元资助"),
    ({"min": 320}, "培训补贴 320 多万元"),
    ({"min": 1000000}, "总规模百亿级"),
    ({"min": 102756000, "max": 102756000}, "注册资本(金)约10275.6亿元"),
]
NOT_WRITTEN_EXAMPLES = [
    ({"min": 10, "max": 10}, "给予 100 万元"),
    ({"min": 100, "max": 100}, "给予 10-100 万元"),
    ({"min": 260000, "max": 260000}, "新增 260 亿元"),
]


def policies() -> list[Policy]:
    return load_policies(POLICIES_DIR)


def letter() -> str:
    return LETTER_PATH.read_text(encoding="utf-8")


def sentences(text: str) -> list[str]:
    """The letter cut on 。, ； and line breaks, blank pieces dropped."""
    return [s.strip() for s in re.split(r"[。；\n]", text) if s.strip()]


def digit_groups(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text)


def covered(sentence: str, quotes: list[str]) -> bool:
    """A quote contains the sentence, or a long enough quote inside it carries all its figures."""
    groups = digit_groups(sentence)
    return any(
        sentence in quote
        or (len(quote) >= MIN_COVERING_QUOTE and quote in sentence and all(g in quote for g in groups))
        for quote in quotes
    )


def number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def chinese(value: Decimal) -> list[str]:
    """Chinese forms of a whole number as the letter may write it: 一百, and 百 without the leading 一."""
    if value != value.to_integral_value():
        return []
    text = cn2an.an2cn(int(value))
    return [text, text[1:]] if text.startswith("一") and len(text) > 1 else [text]


def written_patterns(amount: dict) -> list[re.Pattern[str]]:
    """Regexes for how the letter can write an amount given in 万元: 万 or (≥1 亿) 亿, digits or Chinese."""
    low = amount.get("min")
    high = amount.get("max")
    values = [Decimal(str(v)) for v in (low, high) if v is not None]
    spans = [values] if len(set(values)) > 1 else [values[:1]]
    patterns = []
    for span in spans:
        forms = [(["-".join(number(v) for v in span)], "万")]
        if all(v >= 10000 for v in span):
            yi = [v / 10000 for v in span]
            forms.append((["-".join(number(v) for v in yi)], "亿"))
            if len(yi) == 1:
                forms.append((chinese(yi[0]), "亿"))
        for heads, unit in forms:
            for head in heads:
                patterns.append(re.compile(rf"(?<![\d.\-]){re.escape(head)}{APPROX}{unit}"))
    return patterns


def written_in(amount: dict, quote: str) -> bool:
    """Whether the quote states the amount (the letter's spaces around numbers ignored)."""
    compact = re.sub(r"\s+", "", quote)
    return any(p.search(compact) for p in written_patterns(amount))


def eval_cases() -> list[dict]:
    with EVAL_PATH.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_shared_copy_of_letter_is_identical() -> None:
    if not SHARED_LETTER_PATH.exists():
        pytest.skip("no shared copy of the letter on this machine")
    assert SHARED_LETTER_PATH.read_text(encoding="utf-8") == letter()


@pytest.mark.parametrize(("amount", "fragment"), WRITTEN_EXAMPLES)
def test_amount_converter_recognises_letter_forms(amount: dict, fragment: str) -> None:
    assert written_in(amount, fragment)


@pytest.mark.parametrize(("amount", "fragment"), NOT_WRITTEN_EXAMPLES)
def test_amount_converter_rejects_other_figures(amount: dict, fragment: str) -> None:
    assert not written_in(amount, fragment)


def test_there_are_enough_records() -> None:
    assert len(policies()) >= MIN_RECORDS


def test_ids_are_unique_across_files() -> None:
    ids = []
    for path in sorted(POLICIES_DIR.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ids += [str(raw["id"]) for raw in doc.get("records") or []]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert duplicates == []
    assert len(ids) == len(policies())


def test_categories_are_from_the_allowed_set() -> None:
    unknown = {p.id: p.category for p in policies() if p.category not in ALLOWED_CATEGORIES}
    assert unknown == {}


def test_every_quote_is_verbatim_from_the_letter() -> None:
    text = letter()
    not_verbatim = [p.id for p in policies() if p.quote not in text]
    multiline = [p.id for p in policies() if "\n" in p.quote or "\r" in p.quote]
    empty = [p.id for p in policies() if not p.quote.strip()]
    assert (not_verbatim, multiline, empty) == ([], [], [])


def test_every_sentence_with_a_figure_is_quoted() -> None:
    quotes = [p.quote for p in policies()]
    with_digits = [s for s in sentences(letter()) if re.search(r"\d", s)]
    uncovered = [s for s in with_digits if not covered(s, quotes)]
    assert with_digits, "the letter has no sentence with a figure: wrong source file?"
    assert uncovered == []


def test_every_structured_amount_is_stated_in_its_quote() -> None:
    absent = [
        (p.id, amount) for p in policies() for amount in p.amounts_wan if not written_in(amount, p.quote)
    ]
    assert absent == []


def test_every_amount_has_a_bound_and_a_sane_range() -> None:
    bad = [
        (p.id, a)
        for p in policies()
        for a in p.amounts_wan
        if (a.get("min") is None and a.get("max") is None)
        or (a.get("min") is not None and a.get("max") is not None and a["min"] > a["max"])
    ]
    assert bad == []


def test_evaluation_set_is_large_enough() -> None:
    assert len(eval_cases()) >= MIN_EVAL_QUESTIONS


def test_every_record_is_in_the_evaluation_set_and_nothing_else() -> None:
    ids = {p.id for p in policies()}
    expected = {pid for case in eval_cases() for pid in case["expected"]}
    assert (sorted(ids - expected), sorted(expected - ids)) == ([], [])


def test_evaluation_cases_have_a_question_and_expected_ids() -> None:
    malformed = [
        case
        for case in eval_cases()
        if not isinstance(case.get("q"), str) or not case["q"].strip() or not case.get("expected")
    ]
    assert malformed == []
