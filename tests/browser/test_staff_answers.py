"""Staff answers in a real browser, on a stack with its own copy of the knowledge base: a liaison answers
a case with the help of 快捷回复 and proposes the reply (建议入库), an editor completes and publishes it
from 待审答复, the bot then answers the question with it (labelled, still offering a person), and stops
once the editor withdraws it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from bench.stack import Stack
from tests.browser.widget import BOT_WAIT_MS, ask_turn, open_widget

NewContext = Callable[..., BrowserContext]

GXJ = "市工业和信息化局"  # where a question about 股改资助 is routed
LIAISON = ("sa_liaison", "sa-liaison-password-1", "冯联络", GXJ)
EDITOR = ("sa_editor", "sa-editor-password-1", "陈编辑", GXJ)

# Procedural: the letter gives the amount (200 万元) but not the documents to hand in.
QUESTION = "股改资助的申报材料要交哪些？"
VARIANT = "股份制改造资助申报需要准备什么材料？"
RECORD_ID = "zjtx-shareholding-reform"  # 专精特新股份制改造资助, 答复函 三（二）
OWN_SENTENCE = "申报材料以当年的申报通知为准，通知发布后我会第一时间告诉您。"
STAFF_ANSWER = "股改资助申报需提交：股改方案、中介机构协议、验资报告，具体以当年申报通知为准。"
STAFF_LABEL = "工作人员答复"
ANSWER_WITHIN_S = 10.0


@pytest.fixture(scope="module")
def staff(kb_stack: Stack) -> Stack:
    for (username, password, name, department), role in ((LIAISON, "liaison"), (EDITOR, "editor")):
        kb_stack.add_liaison(username, password, name, department, role=role)
    return kb_stack


def china_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


# -- widget helpers ----------------------------------------------------------------------------
def said(turn: list[Locator]) -> str:
    return "\n".join(message.inner_text() for message in turn)


def staff_answer_within(page: Page, text: str, deadline: float) -> list[Locator]:
    """Ask until the bot answers with the staff answer: right after 发布 it may still answer from the
    old index for a moment, so a miss before ``deadline`` is asked again (a fresh turn, not a sleep)."""
    for asked in range(1, 100):
        turn = ask_turn(page, text)
        if STAFF_ANSWER in said(turn):
            print(f"\nstaff answer on question {asked}")
            return turn
        assert time.monotonic() < deadline, f"no staff answer in time; last: {said(turn)}"
    raise AssertionError("no staff answer after 99 questions")


# -- console helpers ---------------------------------------------------------------------------
def open_console(context: BrowserContext, stack: Stack, who: tuple[str, str, str, str]) -> Page:
    page = context.new_page()
    page.goto(f"{stack.gateway}/console")
    page.locator("#login-username").fill(who[0])
    page.locator("#login-password").fill(who[1])
    page.locator("#login-submit").click()
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#liaison-name")).to_have_text(who[2])
    expect(page.locator("#count-queue")).not_to_be_empty()  # the case lists were drawn
    return page


def api_get(page: Page, stack: Stack, path: str) -> object:
    """An API read with the console's own token."""
    token = page.evaluate("sessionStorage.getItem('hqt_token')")
    assert token
    res = page.request.get(f"{stack.gateway}{path}", headers={"Authorization": f"Bearer {token}"})
    assert res.status == 200, (path, res.status, res.text())
    return res.json()


# -- the test ----------------------------------------------------------------------------------
def test_a_reply_proposed_from_a_case_is_published_answered_with_and_withdrawn(
    staff: Stack, new_context: NewContext, artifacts: Path
) -> None:
    stack = staff

    # 1. The owner asks what the letter does not say, then asks for a person.
    owner = open_widget(new_context(), stack)
    first = ask_turn(owner, QUESTION)
    assert first, "the bot did not answer"
    assert STAFF_LABEL not in said(first)  # nothing published yet
    ask_turn(owner, "转人工")
    banner = owner.locator("#hqt-handoff")
    expect(banner).to_be_visible(timeout=BOT_WAIT_MS)
    expect(banner).to_contain_text(GXJ)
    esc_id = owner.evaluate("JSON.parse(localStorage.getItem('hqt_handoff')).handoff.escalation_id")

    # 2. The liaison claims it and answers with 快捷回复: the record's quote and citation, plus a sentence.
    liaison = open_console(new_context(), stack, LIAISON)
    liaison.locator(f'#list-queue .esc-item[data-id="{esc_id}"]').click()
    expect(liaison.locator("#packet")).to_contain_text("股改资助")
    expect(liaison.locator("#btn-propose")).to_be_hidden()  # not mine yet
    liaison.locator("#btn-claim").click()
    expect(liaison.locator("#detail-status")).to_have_text("处理中")
    expect(liaison.locator("#btn-propose")).to_be_visible()  # claimed by me: a reply may be proposed

    reply = liaison.locator("#reply-input")
    liaison.locator("#btn-snippets").click()
    panel = liaison.locator("#snippets-panel")
    expect(panel).to_be_visible()
    expect(liaison.locator("#btn-snippets")).to_have_attribute("aria-expanded", "true")
    expect(liaison.locator("#snippets-q")).to_have_value(re.compile("股改资助"))  # the case's question
    quote = liaison.locator(f'#snippets-list .snippet-item[data-kind="record"][data-id="{RECORD_ID}"]')
    expect(quote).to_be_visible()
    expect(quote.locator(".snippet-title")).to_contain_text("股份制改造")
    liaison.screenshot(path=artifacts / "console-snippets.png", full_page=True)
    quote.click()
    expect(panel).to_be_hidden()
    expect(reply).to_be_focused()
    expect(reply).to_have_value(re.compile(r"“[^”]*200\s*万[^”]*”（依据：答复函 三（二）"))
    reply.press("Control+End")
    reply.press_sequentially(f"\n{OWN_SENTENCE}")
    expect(reply).to_have_value(re.compile(rf"^“.*依据.*\n{re.escape(OWN_SENTENCE)}$", re.S))
    liaison.locator("#reply-submit").click()
    expect(reply).to_have_value("")
    expect(liaison.locator("#transcript .msg-liaison").last).to_contain_text(OWN_SENTENCE)
    delivered = owner.locator(".hqt-msg[data-role=liaison]").filter(has_text=OWN_SENTENCE)
    expect(delivered).to_be_visible(timeout=5_000)
    expect(delivered).to_contain_text("依据：答复函 三（二）")
    expect(delivered).to_contain_text("200")

    # After 办结, 建议入库: prefilled from the case, the answer rewritten for everyone who asks.
    liaison.locator("#btn-resolve").click()
    expect(liaison.locator("#detail-status")).to_have_text("已办结")
    expect(liaison.locator("#btn-propose")).to_be_visible()
    liaison.locator("#btn-propose").click()
    expect(liaison.locator("#propose-panel")).to_be_visible()
    expect(liaison.locator("#propose-question")).to_have_value(re.compile("股改资助的申报材料要交哪些"))
    expect(liaison.locator("#propose-answer")).to_have_value(re.compile(re.escape(OWN_SENTENCE)))  # my reply
    expect(liaison.locator("#propose-department")).to_have_value(GXJ)
    liaison.locator("#propose-answer").fill(STAFF_ANSWER)
    liaison.locator("#propose-submit").click()
    expect(liaison.locator("#propose-status")).to_contain_text("已提交，待编辑审核")
    expect(liaison.locator("#propose-submit")).to_be_disabled()  # not twice by accident
    liaison.screenshot(path=artifacts / "console-propose.png", full_page=True)

    # 3. The editor finds it in 待审答复, is told what is wrong at each field, then publishes it.
    editor = open_console(new_context(), stack, EDITOR)
    editor.locator("#tab-knowledge").click()
    expect(editor.locator("#kb-view")).to_be_visible()
    expect(editor.locator("#kb-proposals-status")).to_have_value("pending")
    item = editor.locator("#kb-proposals .kb-proposal-item").filter(has_text="股改资助的申报材料")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("待审核")
    expect(item).to_contain_text(re.compile(f"{LIAISON[0]}|{LIAISON[2]}"))  # proposed by
    proposal_id = item.get_attribute("data-id")
    assert proposal_id
    item.click()
    form = editor.locator("#kb-proposal-form")
    expect(form).to_be_visible()
    expect(editor.locator("#kb-proposal-state")).to_have_text("待审核")
    expect(editor.locator("#kb-proposal-meta")).to_contain_text(f"来自工单 #{esc_id}")
    questions = editor.locator("#kb-proposal-questions")
    expect(questions).to_have_value(re.compile("^股改资助的申报材料要交哪些"))
    expect(editor.locator("#kb-proposal-answer")).to_have_value(STAFF_ANSWER)
    expect(editor.locator("#kb-proposal-department")).to_have_value(GXJ)
    expect(editor.locator("#kb-proposal-withdraw")).to_be_hidden()

    questions.fill("")
    editor.locator("#kb-proposal-save").click()
    expect(editor.locator("#kb-proposal-error-questions")).to_be_visible()
    expect(editor.locator("#kb-proposal-error-questions")).not_to_be_empty()
    expect(editor.locator("#kb-proposal-errors")).to_contain_text("问题变体")
    expect(editor.locator("#kb-proposal-status-line")).to_have_text("未保存")

    questions.fill(f"{QUESTION}\n{VARIANT}")
    review_by = editor.locator("#kb-proposal-review-by")
    review_by.fill("2020-01-01")
    editor.locator("#kb-proposal-save").click()
    expect(editor.locator("#kb-proposal-error-review_by")).to_be_visible()
    expect(editor.locator("#kb-proposal-error-questions")).to_be_hidden()
    expect(editor.locator("#kb-proposal-errors")).to_contain_text("复核日期")

    review_by.fill("")
    editor.locator("#kb-proposal-publish").click()  # a staff answer is published with a review date only
    expect(editor.locator("#kb-proposal-errors")).to_contain_text("复核日期")
    expect(editor.locator("#kb-proposal-status-line")).to_have_text("未发布")
    expect(editor.locator("#kb-proposal-state")).to_have_text("待审核")

    review_by.fill((china_today() + timedelta(days=90)).isoformat())
    editor.locator("#kb-proposal-record-pick").select_option(RECORD_ID)
    expect(editor.locator("#kb-proposal-records")).to_have_value(RECORD_ID)
    editor.locator("#kb-proposal-save").click()
    expect(editor.locator("#kb-proposal-status-line")).to_contain_text("已保存")
    expect(editor.locator("#kb-proposal-errors")).to_be_hidden()
    expect(questions).to_have_value(f"{QUESTION}\n{VARIANT}")  # as the server stored it

    asker = open_widget(new_context(), stack)  # opened before the clock starts
    clicked = time.monotonic()
    editor.locator("#kb-proposal-publish").click()
    expect(editor.locator("#kb-proposal-status-line")).to_contain_text("已发布")
    published = time.monotonic()
    expect(editor.locator("#kb-proposal-state")).to_have_text("已发布")
    expect(editor.locator("#kb-proposal-withdraw")).to_be_visible()
    expect(editor.locator("#kb-proposal-publish")).to_be_hidden()
    expect(editor.locator("#kb-proposal-questions")).not_to_be_editable()
    expect(editor.locator("#kb-proposal-label")).to_contain_text(
        f"{STAFF_LABEL} · {GXJ} · {china_today().isoformat()}"  # as the bot will sign it
    )
    expect(editor.locator("#kb-proposal-meta")).to_contain_text(
        re.compile(f"审核：({EDITOR[0]}|{EDITOR[2]})")
    )
    expect(item).to_have_count(0)  # no longer pending

    # 4. A new conversation gets the staff answer, labelled, and may still ask for a person.
    turn = staff_answer_within(asker, QUESTION, clicked + ANSWER_WITHIN_S)
    print(f"staff_publish_to_answer_s={time.monotonic() - clicked:.2f}")
    print(f"of which 发布 until the console said so: {published - clicked:.2f} s")
    text = said(turn)
    assert f"{STAFF_LABEL} · {GXJ} · {china_today().isoformat()}" in text, text
    assert "转人工" in text, text
    asker.screenshot(path=artifacts / "widget-staff-answer.png")
    variant_turn = ask_turn(open_widget(new_context(), stack), VARIANT)
    assert STAFF_ANSWER in said(variant_turn), said(variant_turn)
    # A liaison's 快捷回复 now offers it too, with its label.
    snippets = api_get(liaison, stack, f"/api/knowledge/snippets?q={QUESTION}")
    assert isinstance(snippets, list)
    assert any(
        s["kind"] == "staff" and STAFF_ANSWER in s["text"] and STAFF_LABEL in s["text"] for s in snippets
    )

    # 5. Withdrawn (found under 已发布): new conversations no longer get it.
    editor.locator("#kb-proposals-status").select_option("published")
    listed = editor.locator(f'#kb-proposals .kb-proposal-item[data-id="{proposal_id}"]')
    expect(listed).to_contain_text("已发布")
    listed.click()
    expect(editor.locator("#kb-proposal-state")).to_have_text("已发布")
    editor.screenshot(path=artifacts / "console-staff-answer.png", full_page=True)
    withdrawn_at = time.monotonic()
    editor.locator("#kb-proposal-withdraw").click()
    expect(editor.locator("#kb-proposal-status-line")).to_contain_text("已撤回")
    expect(editor.locator("#kb-proposal-state")).to_have_text("已撤回")
    expect(editor.locator("#kb-proposal-withdraw")).to_be_hidden()
    expect(listed).to_have_count(0)
    while True:
        after = said(ask_turn(open_widget(new_context(), stack), QUESTION))
        if STAFF_ANSWER not in after:
            break
        assert time.monotonic() < withdrawn_at + ANSWER_WITHIN_S, f"still the staff answer: {after}"
    print(f"staff_withdraw_to_gone_s={time.monotonic() - withdrawn_at:.2f}")
    assert STAFF_LABEL not in after
