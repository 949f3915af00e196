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


@pytest.mark.parametrize(
    ("text", "policy_id", "unstated"),
    [
        ("开公司要准备什么材料？注册资本最少要多少？", "business-startup-1day", "申请材料"),
        ("组合支持入面融资担保系边间担保公司做？担保费几多？", "cluster-collab-pilot", "收费情况"),
        ("企业开办要几耐？注册资本最少要多少？", "business-startup-1day", "“注册资本”方面的内容"),
        ("股改资助最多几多？边类企业先有？", "zjtx-shareholding-reform", None),  # both stated
        ("股改资助最多几多？", "zjtx-shareholding-reform", None),  # one question
    ],
)
def test_the_question_of_several_that_the_letter_does_not_state(
    text: str, policy_id: str, unstated: str | None
) -> None:
    from actions.answer import unstated_question
    from knowledge.understand import understand

    said = understand(text).said  # as the action reads it: 几耐 is 多久
    assert unstated_question(said, default_searcher().policies[policy_id], []) == unstated


@pytest.mark.parametrize(
    ("text", "records"),
    [
        ("38号函系几时发嘅 联系人电话又系几多", ["letter-date", "letter-contact"]),
        (
            "數字化智能化轉型辦公室主任是誰？市政府1號文的文號是什麼？",
            ["transformation-office", "policy-zhongfu-2022-1"],
        ),
        ("股改资助最多几多？边类企业先有？", None),  # one record answers both
        (
            "640家入面，专精特新有几多家，战新集群企业又有几多家？",
            None,
        ),  # a part of a total, whoever counts it
        ("开公司要准备什么材料？注册资本最少要多少？", None),  # neither is stated
    ],
)
def test_each_question_from_its_own_record(text: str, records: list[str] | None) -> None:
    from actions.respond import each_question
    from knowledge.understand import understand

    found = each_question(understand(text))
    assert ([m.hit.policy_id for m in found] if found else None) == records
