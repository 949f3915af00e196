"""normalize(): 繁→简, 全角→半角, Chinese numerals → Arabic only where they are quantities."""

from __future__ import annotations

import pytest

from knowledge.text import normalize

TABLE = [
    # The two forms from the issue, and other percentages.
    ("增长百分之三十", "增长30%"),
    ("增长３０％", "增长30%"),
    ("去年增长了百分之三十五", "去年增长了35%"),
    ("百分之三点五", "3.5%"),
    ("百分之十二点五", "12.5%"),
    # A sum in 亿 and 万 keeps its unit (the growth rules read 万 and 亿, not a bare 110000000).
    ("今年一亿一千万", "今年11000万"),
    ("五亿五千万元", "55000万元"),
    ("旧年营收八千万", "去年营收8000万"),
    # Owners' words for the letter's terms.
    ("政府帮唔帮手还啲利息", "政府帮不帮手贴息"),
    ("政府有冇帮企业贴贷款利息", "政府有没有帮企业贴息"),
    ("贷款利息多少", "贷款利息多少"),  # no verb of paying: not the 贴息
    # the interest first, the government paying it after
    ("利息政府能不能帮忙出一部分", "贴息政府能不能帮忙出一部分"),
    ("贷款利息太高政府帮不了", "贷款利息太高政府帮不了"),
    ("有冇传媒嚟报道", "有没有媒体来报道"),
    ("增长30%", "增长30%"),
    # Amounts keep the unit owners write.
    ("两千万", "2000万"),
    ("一百万", "100万"),
    ("两百万", "200万"),
    ("二十万", "20万"),
    ("十万元", "10万元"),
    ("补贴十到一百万", "补贴10到100万"),
    # Digit strings, quantities with a measure word.
    ("二〇二二年", "2022年"),
    ("三家企业", "3家企业"),
    ("五年内", "5年内"),
    ("三十五", "35"),
    ("零点五", "0.5"),
    # Names and ordinals stay as written.
    ("统一", "统一"),
    ("五金", "五金"),
    ("一站式", "一站式"),
    ("第一步", "第一步"),
    ("二级母基金", "二级母基金"),
    ("十四五规划", "十四五规划"),
    ("一是提升服务能力", "一是提升服务能力"),
    ("进一步压缩企业开办时间", "进一步压缩企业开办时间"),
    ("三（二）", "三(二)"),
    ("涨了三成", "涨了3成"),  # 成 counts as a unit, so growth given in 成 can be parsed
    # Traditional → simplified, full width → half width.
    ("我們是市級專精特新", "我们是市级专精特新"),
    ("專精特新企業增長補貼", "专精特新企业增长补贴"),
    ("ＡＢＣ１２３", "ABC123"),
    ("中工信函〔2022〕38号", "中工信函〔2022〕38号"),
    # Arabic figures and ranges are left alone.
    ("10-100万", "10-100万"),
    ("1.56亿", "1.56亿"),
    ("第131106号", "第131106号"),
    # Whitespace: runs folded, ends stripped, ideographic space included.
    ("  多  空格  ", "多 空格"),
    ("中山\u3000制造", "中山 制造"),
    ("\n换行\n", "换行"),
]
CONTROL = [
    ("a\x00b\x07c", "abc"),
    ("专精\u200b特新", "专精特新"),
    ("增长\x1b[0m30%", "增长[0m30%"),
    ("补贴\u202e多少", "补贴多少"),
]
VARIED = (
    [text for text, _ in TABLE]
    + [text for text, _ in CONTROL]
    + [
        "",
        "   ",
        "我們公司去年營收增長了百分之三十五，想問問有什麼補貼？",
        "ｚｊｔｘ企业增长３０％能拿１０到１００万吗",
        "中山中行对公普惠金融贷款新增 26 亿元",
        "2016-2021年六年市财政累计安排产业扶持资金98亿元",
        "一亿两千万",
        "两万五",
        "十三届 一次会议",
        "统一社会信用代码91442000MA4UQ8XXX9",
        "百分之百",
        "第一，二级母基金；第二，一站式平台",
        "打造“1+1+N”知识产权保护服务体系",
        "emoji 🙂 和 tab\t分隔",
    ]
)
# '百分之百' (a 100% rise, i.e. doubled) is a quantity like '百分之三十'; see the report.
DOUBLED = [("增长了百分之百", "增长了100%")]


@pytest.mark.parametrize(("raw", "expected"), TABLE)
def test_normalize_table(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_both_issue_examples_normalise_to_the_same_text() -> None:
    assert {normalize("增长百分之三十"), normalize("增长３０％")} == {"增长30%"}


@pytest.mark.parametrize(("raw", "expected"), CONTROL)
def test_control_and_format_characters_are_removed(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_newline_and_tab_inside_text_are_kept() -> None:
    assert normalize("第一行\n第二行") == "第一行\n第二行"
    assert normalize("甲\t乙") == "甲 乙"


@pytest.mark.parametrize("raw", ["", None])
def test_empty_input_gives_empty_string(raw: str | None) -> None:
    assert normalize(raw) == ""


@pytest.mark.parametrize("raw", VARIED)
def test_normalize_is_idempotent(raw: str) -> None:
    once = normalize(raw)
    assert normalize(once) == once


@pytest.mark.parametrize(("raw", "expected"), DOUBLED)
def test_hundred_percent_becomes_a_figure(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("这份函是什么时候发的？", "这份答复函是什么时候发的?"),
        ("嗰份函係幾時發嘅？", "那份答复函是什么时候发的?"),
        ("份函嘅文号系咩", "份答复函的文号是什么"),
        ("复函哪天发的", "答复函哪天发的"),
        ("答复函的文号", "答复函的文号"),  # already the letter's name: not doubled
        ("公函怎么写", "公函怎么写"),  # other letters and other words with 函 are left alone
        ("来函收悉", "来函收悉"),
        ("函数", "函数"),
    ],
)
def test_a_reference_to_the_letter_names_the_answer_letter(raw: str, expected: str) -> None:
    """The only 函 an owner can mean is the 答复函 the bot answers from, whose records say 答复函."""
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("政府有没有帮忙贴利息的政策", "政府有没有帮忙贴息的政策"),
        ("贷款利息补贴有没有", "贷款贴息有没有"),
        ("中山有没有派人驻点招商？", "中山有没有派人驻外招商?"),
        ("贷款利率多少", "贷款利率多少"),  # the rate is not the subsidy of it
        ("有没有人帮企业跑手续", "有没有人帮企业代办"),
    ],
)
def test_owners_words_for_the_letters_terms_read_as_the_letters(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
