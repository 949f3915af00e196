"""Feedback in the widget (issue 16), in Chromium against the real stack: 没帮助 with a reason under an
answer, a firm's unseen push shown as a 政策推送 card with the 接收政策推送 switch, and the 1–5 score
under the message that ends a resolved case."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, expect

from bench.stack import Stack
from gateway.data.schema import conversations, push_optouts, pushes, ratings, utcnow
from gateway.data.store import Store
from tests.browser.widget import BOT_WAIT_MS, ask_turn, open_widget
from tests.polling import wait_for

NewContext = Callable[..., BrowserContext]
LIAISON = ("fbb_gxj", "fbb-gxj-password-1", "褚工信", "市工业和信息化局")
QUESTION = "专精特新企业增长30%有什么补贴"
PUSH_TEXT = (
    "【政策推送】贵企业可能符合“专精特新企业增长补贴”（依据：答复函 三（二）），如需帮助可联系挂点服务领导。"
)


def test_rating_an_answer_a_push_notice_and_scoring_a_resolved_case(
    stack: Stack, new_context: NewContext, artifacts: Path
) -> None:
    store = Store(stack.env["DATABASE_URL"])
    page = open_widget(new_context(), stack)
    [answer] = ask_turn(page, QUESTION)[-1:]
    answer_id = int(answer.get_attribute("data-id") or 0)
    not_helpful = answer.locator(".hqt-rate-no")
    expect(not_helpful).to_have_attribute("aria-pressed", "false")
    not_helpful.focus()
    page.keyboard.press("Enter")  # keyboard reachable
    expect(not_helpful).to_have_attribute("aria-pressed", "true")
    expect(answer.locator(".hqt-rate-person")).to_have_text("转人工")
    reason = answer.locator(".hqt-rate-reason")
    expect(reason).to_be_focused()
    reason.fill("没说什么时候申请")
    answer.locator(".hqt-rate-submit").click()
    expect(answer.locator(".hqt-rate-status")).to_have_text("已记录您的意见，谢谢！")
    page.screenshot(path=artifacts / "widget-rating.png")

    def rated() -> tuple[int, str] | None:
        with store.engine.connect() as con:
            row = con.execute(
                sa.select(ratings.c.value, ratings.c.reason).where(ratings.c.key == f"answer:{answer_id}")
            ).first()
        return (int(row[0]), str(row[1])) if row and row[1] else None

    assert wait_for(rated, what="the rating with its reason") == (0, "没说什么时候申请")

    # The conversation belongs to a firm that got a push: it shows as a card at the next visit, once.
    sender = page.evaluate("localStorage.getItem('hqt_sender_id')")
    uscc = "91442000MA4W" + uuid.uuid4().hex[:6].upper()
    with store.tx() as con:
        con.execute(conversations.update().where(conversations.c.sender_id == sender).values(firm_uscc=uscc))
        push_id = con.execute(
            pushes.insert().values(
                record_id="zjtx-growth-subsidy",
                version=1,
                uscc=uscc,
                verdict="符合",
                text=PUSH_TEXT,
                channels="web",
                sent_by="editor",
                created_at=utcnow() - timedelta(minutes=1),
            )
        ).inserted_primary_key[0]
    page.reload()
    expect(page.locator("#hqt-panel")).to_be_visible()
    card = page.locator(".hqt-push")
    expect(card).to_have_count(1, timeout=BOT_WAIT_MS)
    expect(card.locator(".hqt-push-title")).to_have_text("政策推送")
    expect(card.locator(".hqt-push-text")).to_have_text(PUSH_TEXT)
    expect(page.locator(f'.hqt-msg[data-id="{answer_id}"] .hqt-rate-no')).to_have_attribute(
        "aria-pressed", "true"
    )
    switch = page.locator("#hqt-subscribe-switch")
    expect(switch).to_be_visible()
    expect(switch).to_be_checked()
    page.screenshot(path=artifacts / "widget-push-notice.png")

    def seen() -> bool:
        with store.engine.connect() as con:
            return con.execute(sa.select(pushes.c.seen_at).where(pushes.c.id == push_id)).scalar() is not None

    assert wait_for(seen, what="the push marked seen")

    def opted_out() -> list[str]:
        with store.engine.connect() as con:
            return [
                r[0] for r in con.execute(sa.select(push_optouts.c.via).where(push_optouts.c.uscc == uscc))
            ]

    switch.click()  # 接收政策推送 off
    assert wait_for(opted_out, what="the opt-out") == ["web"]
    expect(switch).not_to_be_checked()
    page.reload()
    expect(page.locator("#hqt-subscribe-switch")).to_be_visible(timeout=BOT_WAIT_MS)  # notices loaded
    expect(page.locator("#hqt-subscribe-switch")).not_to_be_checked()
    expect(page.locator(".hqt-push")).to_have_count(0)  # seen once, not again

    # A liaison resolves a case: the "resumed" message asks for a score, until it is given.
    stack.add_liaison(*LIAISON)
    ask_turn(page, "我要转人工")
    expect(page.locator("#hqt-handoff")).to_be_visible(timeout=BOT_WAIT_MS)
    esc_id = page.evaluate("JSON.parse(localStorage.getItem('hqt_handoff')).handoff.escalation_id")
    token = httpx.post(
        f"{stack.gateway}/api/liaison/login", json={"username": LIAISON[0], "password": LIAISON[1]}
    ).json()["token"]
    resolved = httpx.post(
        f"{stack.gateway}/api/escalations/{esc_id}/resolve", headers={"Authorization": f"Bearer {token}"}
    )
    assert resolved.status_code == 200, resolved.text
    score = page.locator(".hqt-msg[data-role=system] .hqt-score")
    expect(score).to_be_visible(timeout=BOT_WAIT_MS)
    score.locator('.hqt-star[data-score="4"]').click()
    expect(score.locator('.hqt-star[aria-pressed="true"]')).to_have_attribute("data-score", "4")
    score.locator(".hqt-score-comment").fill("回复及时")
    score.locator(".hqt-score-submit").click()
    expect(page.locator(".hqt-msg[data-role=system]").filter(has_text="感谢您的评价（4 分）")).to_be_visible()

    def case_score() -> tuple[int, str] | None:
        with store.engine.connect() as con:
            row = con.execute(
                sa.select(ratings.c.value, ratings.c.reason).where(ratings.c.key == f"case:{esc_id}")
            ).first()
        return (int(row[0]), str(row[1])) if row else None

    assert wait_for(case_score, what="the case score") == (4, "回复及时")
    page.reload()
    rated_answer = page.locator(f'.hqt-msg[data-id="{answer_id}"] .hqt-rate-no')
    expect(rated_answer).to_have_attribute("aria-pressed", "true", timeout=BOT_WAIT_MS)  # GET /ratings read
    expect(page.locator(".hqt-score")).to_have_count(0)  # rated: not asked again
