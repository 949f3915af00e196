"""The console's 知识库 tab in a real browser, against a stack with its own copy of the knowledge base:
an editor adds a source and a record quoting it, the bot answers from the record once it is published
(not before), and an older version comes back with 恢复 + 发布."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from bench.stack import Stack
from tests.browser.widget import ask_turn, open_widget

BUBBLES = ".hqt-msg[data-role=bot] .hqt-bubble"

NewContext = Callable[..., BrowserContext]

GXJ = "市工业和信息化局"
EDITOR = ("kb_editor", "kb-editor-password-1", "钱编辑", GXJ)
LIAISON = ("kb_liaison", "kb-liaison-password-1", "孙联络", GXJ)

DOC_NO = "中工信〔2026〕12号"
SOURCE_TITLE = "关于支持工业企业设备更新的通知"
SOURCE_DATE = "2026-03-01"
SENTENCE_300 = "对设备购置额500万元以上的设备更新项目，按设备购置额的10%给予奖补，单个项目最高300万元。"
SENTENCE_100 = (
    "对设备购置额200万元以上、不足500万元的设备更新项目，按设备购置额的8%给予奖补，单个项目最高100万元。"
)
SOURCE_TEXT = "\n".join(
    [
        f"中山市工业和信息化局{SOURCE_TITLE}",
        "各镇街工业主管部门，各有关企业：",
        "为推动大规模设备更新，加快制造业高端化、智能化、绿色化发展，现将有关事项通知如下。",
        "一、支持对象",
        "在本市依法登记注册、具有独立法人资格的规模以上工业企业。",
        "二、申报时间",
        "2026年4月1日至2026年6月30日。",
        "三、支持标准",
        SENTENCE_300,
        SENTENCE_100,
        "四、其他",
        "本通知自印发之日起施行。",
        "中山市工业和信息化局",
        "2026年3月1日",
    ]
)
NOT_IN_SOURCE = "对设备购置额500万元以上的设备更新项目，按设备购置额的20%给予奖补。"  # 20%, not 10%

RECORD_ID = "equipment-renewal-2026"
TITLE_V1 = "工业企业设备更新奖补"
TITLE_V2 = "工业企业设备更新奖补（200-500万元项目）"
# Not "奖补最高多少钱": the bot reads 补最高 as "which figure within the range do I get" and declines.
QUESTION = "设备更新奖补最多多少钱？"
# An answer from the record (its source's 原文 under its title), not a decline that quotes it as related.
ANSWER_300 = re.compile(rf"{re.escape(DOC_NO)}原文（{re.escape(TITLE_V1)}）：“[^”]*300\s*万")
ANSWER_WITHIN_S = 10.0  # the contract: the bot answers from a publication within ~2 s


@pytest.fixture(scope="module")
def staff(kb_stack: Stack) -> Stack:
    for (username, password, name, department), role in ((EDITOR, "editor"), (LIAISON, "liaison")):
        kb_stack.add_liaison(username, password, name, department, role=role)
    return kb_stack


def blank_pdf() -> bytes:
    """A one-page PDF without a text layer, as a scanner makes them."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- console helpers ---------------------------------------------------------------------------
def open_console(context: BrowserContext, stack: Stack, who: tuple[str, str, str, str]) -> Page:
    page = context.new_page()
    page.goto(f"{stack.gateway}/console")
    page.locator("#login-username").fill(who[0])
    page.locator("#login-password").fill(who[1])
    page.locator("#login-submit").click()
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#liaison-name")).to_have_text(who[2])
    return page


def api_status(page: Page, stack: Stack, path: str) -> int:
    """Status of an API read with the console's own token."""
    token = page.evaluate("sessionStorage.getItem('hqt_token')")
    assert token
    return page.request.get(f"{stack.gateway}{path}", headers={"Authorization": f"Bearer {token}"}).status


def fill_record(page: Page, *, title: str, quote: str, max_wan: str, benefit: str) -> None:
    page.locator("#kb-field-title").fill(title)
    page.locator("#kb-field-benefit_text").fill(benefit)
    amount = page.locator("#kb-amounts .kb-amount-row")
    if amount.count() == 0:
        page.locator("#kb-add-amount").click()
    amount.first.locator(".kb-amount-max").fill(max_wan)
    amount.first.locator(".kb-amount-label").fill("设备更新奖补（单个项目最高）")
    page.locator("#kb-field-quote").fill(quote)


def publish(page: Page, version: int) -> float:
    """Click 发布 and wait for the console to say so; returns the moment of the click."""
    button = page.locator("#kb-publish")
    expect(button).to_be_enabled()
    clicked = time.monotonic()
    button.click()
    expect(page.locator("#kb-status")).to_contain_text(f"已发布 v{version}")
    expect(page.locator("#kb-versions li").first).to_have_attribute("data-version", str(version))
    expect(page.locator("#kb-versions li").first).to_have_attribute("data-state", "published")
    expect(button).to_be_disabled()  # nothing left to publish
    return clicked


# -- widget helpers ----------------------------------------------------------------------------
def answer_within(page: Page, text: str, pattern: re.Pattern[str], deadline: float) -> Locator:
    """Ask until a reply matches ``pattern``: right after 发布 the bot may still answer from the old
    index for a moment, so a miss before ``deadline`` is asked again (a fresh turn, not a sleep)."""
    for asked in range(1, 100):
        replies = ask_turn(page, text, BUBBLES)
        for bubble in replies:
            if pattern.search(bubble.inner_text()):
                print(f"\nanswered on question {asked}")
                return bubble
        said = " / ".join(bubble.inner_text() for bubble in replies)
        assert time.monotonic() < deadline, f"no reply matching {pattern.pattern!r} in time; last: {said}"
    raise AssertionError(f"no reply matching {pattern.pattern!r} after 99 questions")


# -- tests -------------------------------------------------------------------------------------
def test_an_editor_publishes_a_record_the_bot_answers_and_restores_an_old_version(
    staff: Stack, new_context: NewContext, artifacts: Path
) -> None:
    stack = staff
    console = open_console(new_context(), stack, EDITOR)
    expect(console.locator("#tab-knowledge")).to_be_visible()
    expect(console.locator("#cases-view")).to_be_visible()  # an editor still has the case view
    console.locator("#tab-knowledge").click()
    expect(console.locator("#kb-view")).to_be_visible()
    expect(console.locator("#cases-view")).to_be_hidden()
    expect(console.locator("#kb-sources")).to_contain_text("中工信函〔2022〕38号")  # the seed letter
    expect(console.locator("#kb-records .kb-item").first).to_be_visible()

    # 1. A new source. A file's text layer fills the 全文 box; a scan has none and says so.
    console.locator("#kb-new-source").click()
    form = console.locator("#kb-source-form")
    expect(form).to_be_visible()
    expect(console.locator("#kb-source-disclosure")).to_have_value("主动公开")
    console.locator("#kb-source-file").set_input_files(
        {"name": "设备更新通知.txt", "mimeType": "text/plain", "buffer": SOURCE_TEXT.encode()}
    )
    expect(console.locator("#kb-source-text")).to_have_value(re.compile(re.escape(SENTENCE_300)))
    console.locator("#kb-source-file").set_input_files(
        {"name": "扫描件.pdf", "mimeType": "application/pdf", "buffer": blank_pdf()}
    )
    expect(console.locator("#kb-source-error-file")).to_contain_text("没有文字层")
    console.locator("#kb-source-title").fill(SOURCE_TITLE)
    console.locator("#kb-source-doc_no").fill(DOC_NO)
    console.locator("#kb-source-issuer").fill("中山市工业和信息化局")
    console.locator("#kb-source-date").fill(SOURCE_DATE)
    console.locator("#kb-source-text").fill(SOURCE_TEXT)  # pasted
    console.locator("#kb-source-save").click()
    source = console.locator("#kb-sources .kb-source").filter(has_text=DOC_NO)
    expect(source).to_be_visible()
    expect(source).to_contain_text(SOURCE_DATE)
    expect(source).to_contain_text("字")
    expect(console.locator("#kb-source-view-text")).to_contain_text(SENTENCE_300)
    source_id = source.get_attribute("data-id")
    assert source_id

    # 2. A record whose quote is not in the source is refused at the quote, and nothing is stored.
    console.locator("#kb-new-record").click()
    record = console.locator("#kb-record-form")
    expect(record).to_be_visible()
    expect(console.locator("#kb-publish")).to_be_disabled()
    console.locator("#kb-field-id").fill(RECORD_ID)
    console.locator("#kb-field-source_id").select_option(source_id)
    console.locator("#kb-field-section").fill("三")
    console.locator("#kb-field-departments").fill(GXJ)
    console.locator("#kb-field-category").select_option("digital_transformation")
    console.locator("#kb-field-status").select_option("in_force")
    console.locator("#kb-field-audience").fill("本市规模以上工业企业")
    console.locator("#kb-field-aliases").fill("设备更新奖补、设备奖补，设备购置奖补")
    fill_record(console, title=TITLE_V1, quote=NOT_IN_SOURCE, max_wan="300", benefit=SENTENCE_300)
    check = console.locator("#kb-quote-check")
    expect(check).to_have_text("引文在来源中找不到")
    console.locator("#kb-save").click()
    quote_error = console.locator("#kb-error-quote")
    expect(quote_error).to_be_visible()
    expect(quote_error).not_to_be_empty()
    expect(console.locator("#kb-errors")).to_contain_text("原文引用")
    expect(console.locator("#kb-status")).to_have_text("未保存")
    expect(console.locator("#kb-field-id")).to_be_editable()  # still a new record
    assert api_status(console, stack, f"/api/knowledge/records/{RECORD_ID}") == 404
    expect(console.locator(f'#kb-records .kb-item[data-id="{RECORD_ID}"]')).to_have_count(0)

    # The quote fixed: the live check finds it in context, the draft is saved but not yet answered from.
    console.locator("#kb-field-quote").fill(SENTENCE_300)
    expect(check).to_contain_text("在来源中找到：")
    expect(check.locator("mark")).to_have_text(f"【{SENTENCE_300}】")
    expect(check).to_contain_text("对设备购置额200万元以上")  # the context after it: the next sentence
    console.locator("#kb-save").click()
    expect(console.locator("#kb-status")).to_contain_text("已保存草稿 v1")
    expect(quote_error).to_be_hidden()
    expect(console.locator("#kb-errors")).to_be_hidden()
    expect(console.locator("#kb-field-id")).not_to_be_editable()
    item = console.locator(f'#kb-records .kb-item[data-id="{RECORD_ID}"]')
    expect(item).to_contain_text("未发布")
    expect(item.locator(".kb-draft")).to_have_text("草稿 v1")
    expect(console.locator('#kb-versions [data-version="1"]')).to_have_attribute("data-state", "draft")
    expect(console.locator("#kb-field-departments")).to_have_value(GXJ)
    expect(console.locator("#kb-field-aliases")).to_have_value("设备更新奖补、设备奖补、设备购置奖补")

    unpublished = open_widget(new_context(), stack)  # also warms Rasa up before the timing below
    for bubble in ask_turn(unpublished, QUESTION, BUBBLES):
        expect(bubble).not_to_contain_text(DOC_NO)

    # 3. Published: a fresh conversation gets the amount, cited by the new source's 文号.
    owner = open_widget(new_context(), stack)
    clicked = publish(console, 1)
    published = time.monotonic()
    answer = answer_within(owner, QUESTION, ANSWER_300, clicked + ANSWER_WITHIN_S)
    elapsed = time.monotonic() - clicked
    print(f"publish_to_answer_s={elapsed:.2f}")
    print(f"of which 发布 until the console said so: {published - clicked:.2f} s")
    owner.screenshot(path=artifacts / "widget-kb-answer.png")
    expect(answer).to_contain_text(f"依据：{DOC_NO} 三，2026年3月1日")
    expect(answer).not_to_contain_text("没有写明")
    expect(item).to_contain_text("已发布 v1")
    expect(item.locator(".kb-draft")).to_have_count(0)

    # 4. An edit quoting the other sentence, with a condition, saved as v2 and published.
    fill_record(console, title=TITLE_V2, quote=SENTENCE_100, max_wan="100", benefit=SENTENCE_100)
    expect(console.locator("#kb-dirty")).to_be_visible()
    expect(console.locator("#kb-publish")).to_be_disabled()  # save first
    console.locator("#kb-add-condition").click()
    condition = console.locator("#kb-conditions .kb-cond-row").first
    condition.locator(".kb-cond-fact").select_option("manufacturing")
    condition.locator(".kb-cond-op").select_option("==")
    condition.locator(".kb-cond-value").fill("是")
    expect(check.locator("mark")).to_have_text(f"【{SENTENCE_100}】")
    console.locator("#kb-save").click()
    expect(console.locator("#kb-status")).to_contain_text("已保存草稿 v2")
    expect(console.locator("#kb-dirty")).to_be_hidden()
    # What the form shows now is what the server stored.
    expect(console.locator("#kb-record-heading")).to_have_text(TITLE_V2)
    expect(condition.locator(".kb-cond-fact")).to_have_value("manufacturing")
    expect(condition.locator(".kb-cond-op")).to_have_value("==")
    expect(condition.locator(".kb-cond-value")).to_have_value("是")
    expect(console.locator("#kb-amounts .kb-amount-max")).to_have_value("100")
    publish(console, 2)

    # 历史版本: restore v1 as a new draft (v3), publish it, and the original is back.
    versions = console.locator("#kb-versions li")
    expect(versions).to_have_count(2)
    expect(console.locator('#kb-versions [data-version="1"]')).to_have_attribute("data-state", "superseded")
    console.locator('#kb-versions [data-version="1"] .kb-restore').click()
    expect(console.locator("#kb-status")).to_contain_text("草稿 v3")
    expect(console.locator('#kb-versions [data-version="3"]')).to_have_attribute("data-state", "draft")
    expect(console.locator('#kb-versions [data-version="2"]')).to_have_attribute("data-state", "published")
    expect(console.locator("#kb-field-title")).to_have_value(TITLE_V1)
    expect(console.locator("#kb-field-quote")).to_have_value(SENTENCE_300)
    expect(console.locator("#kb-conditions .kb-cond-row")).to_have_count(0)
    expect(console.locator("#kb-amounts .kb-amount-max")).to_have_value("300")
    clicked = publish(console, 3)
    expect(versions).to_have_count(3)
    expect(console.locator("#kb-record-state")).to_have_text("已发布 v3")
    expect(console.locator("#kb-field-title")).to_have_value(TITLE_V1)
    expect(console.locator("#kb-field-quote")).to_have_value(SENTENCE_300)
    expect(item).to_contain_text("已发布 v3")
    expect(item).to_contain_text(TITLE_V1)
    expect(item.locator(".kb-draft")).to_have_count(0)
    console.screenshot(path=artifacts / "console-knowledge.png", full_page=True)

    again = open_widget(new_context(), stack)
    answer = answer_within(again, QUESTION, ANSWER_300, clicked + ANSWER_WITHIN_S)
    print(f"restore_publish_to_answer_s={time.monotonic() - clicked:.2f}")
    expect(answer).to_contain_text(f"依据：{DOC_NO}")


def test_a_liaison_has_no_knowledge_tab(staff: Stack, new_context: NewContext) -> None:
    console = open_console(new_context(), staff, LIAISON)
    expect(console.locator("#cases-view")).to_be_visible()
    expect(console.locator("#count-queue")).not_to_be_empty()  # the case lists were drawn
    expect(console.locator("#tab-knowledge")).to_be_hidden()
    expect(console.locator("#kb-view")).to_be_hidden()
    assert api_status(console, staff, "/api/knowledge/records") == 403
