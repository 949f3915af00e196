"""A procedural message that also asks what the letter does state gets that part answered."""

from __future__ import annotations

import pytest

from actions.answer import stated_part
from knowledge.search import default_searcher


@pytest.mark.parametrize(
    ("text", "policy_id", "part"),
    [
        ("产业基金首期多大 我们怎么申请让基金投我们", "industry-investment-fund", "amount"),
        ("股改资助怎么申请，最多给多少", "zjtx-shareholding-reform", "amount"),
        ("专精特新增长补贴要什么材料", "zjtx-growth-subsidy", None),
        # 找谁 beside 怎么对接 is the procedure again
        ("企业要怎么对接那个产业投资基金，找谁拿投资", "industry-investment-fund", None),
        # how the amount within 10–100 万 is set: no range says it
        ("增长补贴具体按什么标准定档？增长多少拿多少", "zjtx-growth-subsidy", None),
    ],
)
def test_the_part_the_letter_states(text: str, policy_id: str, part: str | None) -> None:
    assert stated_part(text, default_searcher().policies[policy_id]) == part


@pytest.mark.parametrize(
    ("topic", "policy_id", "stated"),
    [
        ("发生时间", "new-apprenticeship", True),  # "2019 年以来，全面推行…": when it started
        ("发生时间", "letter-date", True),  # the letter's own date
        ("发生时间", "letter-document", False),  # a 文号 dates nothing
        ("申请材料", "new-apprenticeship", False),
    ],
)
def test_the_procedural_detail_the_letter_states(topic: str, policy_id: str, stated: bool) -> None:
    from actions.answer import letter_states_procedure

    assert letter_states_procedure(topic, default_searcher().policies[policy_id]) is stated
