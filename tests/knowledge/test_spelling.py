"""Typos of the domain's words are read as the words meant; real words are left alone."""

from __future__ import annotations

import pytest

from knowledge.spelling import correct


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("补帖多少", "补贴多少"),  # a homophone
        ("股分制改造", "股份制改造"),
        (
            "专经特新增涨补贴最多给多少？",
            "专精特新增长补贴最多给多少？",
        ),  # 长 read zhang in 增长; jieba cuts 新增
        ("专精特新认定标淮是什么", "专精特新认定标准是什么"),  # a lookalike, not a homophone
        ("评专精特心要什么条件", "评专精特新要什么条件"),  # 专精特性 sounds the same: the policy word wins
        ("BOC即是哪家银行", "中国银行即是哪家银行"),  # owners' Latin abbreviations
        (
            "贷款利律几多？要唔要抵压？",
            "贷款利率几多？要唔要抵押？",
        ),  # a loan's terms, not only our records' words
        ("申报载止日期系几时", "申报截止日期系几时"),
    ],
)
def test_typos_of_our_words_are_corrected(typed: str, meant: str) -> None:
    assert correct(typed) == meant


@pytest.mark.parametrize(
    "text", ["是用来做什么的", "泛家居的节点", "货款什么时候结", "股份制改造资助", "下载止咳药的说明"]
)
def test_real_words_are_kept(text: str) -> None:
    assert correct(text) == text
