"""Staff answers are used only for the question they answer, in other words, and only until review."""

from __future__ import annotations

from datetime import date

from knowledge.staff import StaffAnswer, best_match, fit

MATERIALS = StaffAnswer(
    id=1,
    questions=("股改资助的申报材料要交哪些？", "股份制改造资助需要准备什么材料"),
    answer="股改资助申报需提交：股改方案、中介机构协议、验资报告，具体以当年申报通知为准。",
    department="市工业和信息化局",
    published="2026-11-20",
    review_by="2027-06-30",
)
TODAY = date(2026, 11, 27)


def test_the_same_question_in_other_words_gets_the_staff_answer() -> None:
    for question in (
        "股改资助的申报材料要交哪些？",
        "请问股改资助申报要交哪些材料",
        "股份制改造资助需要准备什么材料？谢谢",
        "您好，麻烦问下股改资助的申报材料要交哪些",
    ):
        assert best_match(question, [MATERIALS], TODAY) is MATERIALS, question


def test_another_question_on_the_same_measure_does_not() -> None:
    for question in (
        "股改资助最多多少钱？",
        "股改资助什么时候截止",
        "专精特新增长补贴要交哪些材料？",
        "材料",
        "我们公司想做股份制改造，要准备什么",
    ):
        assert best_match(question, [MATERIALS], TODAY) is None, question
    assert fit("股改资助最多多少钱？", MATERIALS.questions[0]) == 0.0


def test_past_its_review_date_it_is_not_used() -> None:
    assert best_match(MATERIALS.questions[0], [MATERIALS], date(2027, 6, 30)) is MATERIALS
    assert best_match(MATERIALS.questions[0], [MATERIALS], date(2027, 7, 1)) is None
    assert MATERIALS.label == "工作人员答复 · 市工业和信息化局 · 2026-11-20"
