"""Feedback in WeCom (issue 16), through the real stack and the local fake WeCom API: an answer offers
有帮助 / 没帮助 as numbered options at most once a day, "1"/"2" rate it without reaching the bot, one reason
may follow 没帮助, 退订/订阅 switch a bound firm's pushes, and a resolved case is scored with a digit."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from stdnum.cn import uscc as uscc_check

from bench.stack import Stack
from gateway import feedback
from gateway.data.schema import messages, push_optouts, ratings
from gateway.data.store import Store
from tests.fakes.wecom_api import FakeWeComServer
from tests.polling import wait_for
from tests.wecom.test_wecom_e2e import case_id_of, handled, post_message, stored, texts_to

# Answers whose records set no conditions: no "帮我判断" option of their own, so rating is offered.
FUND_Q = "市产业投资基金总规模是多少"
MOTHER_FUND_Q = "产业母基金规模多大"
PROMPT = "回复1：有帮助  回复2：没帮助"
LIAISON = ("fbw_gxj", "fbw-gxj-password-1", "卫工信", "市工业和信息化局")


def owner() -> str:
    return f"fb{uuid.uuid4().hex[:8]}"


def sent_with(server: FakeWeComServer, kind: str, target: str, needle: str) -> list[str]:
    """The texts sent to ``target`` that contain ``needle``, once there is one."""
    return list(
        wait_for(
            lambda: [t for t in texts_to(server, kind, target) if needle in t],
            what=f"a text with {needle!r} to {target}",
        )
    )


def sent_after(server: FakeWeComServer, kind: str, target: str, count: int) -> list[str]:
    """The texts sent to ``target`` after its first ``count``, once there is one."""
    return list(wait_for(lambda: texts_to(server, kind, target)[count:], what=f"a new text to {target}"))


def rating_rows(stack: Stack, sender_id: str) -> list[dict[str, Any]]:
    with Store(stack.env["DATABASE_URL"]).engine.connect() as con:
        return [
            dict(r)
            for r in con.execute(
                sa.select(ratings).where(ratings.c.sender_id == sender_id).order_by(ratings.c.id)
            ).mappings()
        ]


def outcome_of_owner_message(stack: Stack, sender_id: str, text: str) -> str | None:
    with Store(stack.env["DATABASE_URL"]).engine.connect() as con:
        value = con.execute(
            sa.select(messages.c.outcome)
            .where(messages.c.sender_id == sender_id, messages.c.role == "user", messages.c.text == text)
            .order_by(messages.c.id.desc())
            .limit(1)
        ).scalar()
    return None if value is None else str(value)


def test_an_answer_is_rated_with_1_and_a_second_answer_the_same_day_asks_nothing(
    stack: Stack, wecom_server: FakeWeComServer
) -> None:
    user, base = owner(), int(time.time() * 1000)
    sender = f"wecom:{user}"
    post_message(stack, user, FUND_Q, base)
    [answer] = sent_with(wecom_server, "user", user, PROMPT)
    assert "首期" in answer
    rated = [m for m in stored(stack, sender) if m["role"] == "bot"][-1]
    assert rated["buttons"] == feedback.RATE_BUTTONS

    post_message(stack, user, "1", base + 1)
    sent_with(wecom_server, "user", user, feedback.THANKS)
    assert handled(stack, sender, "#rate:1") == "processed"
    assert outcome_of_owner_message(stack, sender, "#rate:1") == "feedback"
    [row] = rating_rows(stack, sender)
    assert (row["key"], row["kind"], row["value"], row["channel"]) == (
        f"answer:{rated['id']}",
        "answer",
        1,
        "wecom-user",
    )
    # The bot never saw the "1": the only reply to it is the gateway's thanks.
    after = [m for m in stored(stack, sender) if m["id"] > rated["id"]]
    assert [(m["role"], m["text"]) for m in after] == [("user", "#rate:1"), ("bot", feedback.THANKS)]

    told = len(texts_to(wecom_server, "user", user))
    post_message(stack, user, MOTHER_FUND_Q, base + 2)
    [second] = sent_after(wecom_server, "user", user, told)
    assert "百亿" in second
    assert "有帮助" not in second
    # With no rating options on the last message, "1" is the bot's as before.
    post_message(stack, user, "1", base + 3)
    assert handled(stack, sender, "1") == "processed"
    assert outcome_of_owner_message(stack, sender, "1") != "feedback"
    assert len(rating_rows(stack, sender)) == 1


def test_2_asks_for_one_reason_and_the_next_message_is_stored_as_it(
    stack: Stack, wecom_server: FakeWeComServer
) -> None:
    user, base = owner(), int(time.time() * 1000)
    sender = f"wecom:{user}"
    post_message(stack, user, FUND_Q, base)
    sent_with(wecom_server, "user", user, PROMPT)
    post_message(stack, user, "2", base + 1)
    [ask] = sent_with(wecom_server, "user", user, "哪里没说清楚")
    assert '回复"人工"' in ask
    post_message(stack, user, "没有说什么时候申请", base + 2)
    sent_with(wecom_server, "user", user, feedback.REASON_KEPT)
    [row] = rating_rows(stack, sender)
    assert (row["value"], row["reason"]) == (0, "没有说什么时候申请")
    # Once: the message after that goes to the bot again.
    post_message(stack, user, MOTHER_FUND_Q, base + 3)
    sent_with(wecom_server, "user", user, "百亿")
    assert rating_rows(stack, sender)[0]["reason"] == "没有说什么时候申请"


def test_an_answer_with_options_of_its_own_is_rated_by_typing(
    stack: Stack, wecom_server: FakeWeComServer
) -> None:
    user, base = owner(), int(time.time() * 1000)
    sender = f"wecom:{user}"
    post_message(
        stack, user, "专精特新增长补贴多少钱", base
    )  # a record with conditions: 帮我判断… is its option
    [answer] = sent_with(wecom_server, "user", user, "10-100")
    assert PROMPT not in answer
    rated = [m for m in stored(stack, sender) if m["role"] == "bot"][-1]
    post_message(stack, user, "没帮助", base + 1)
    sent_with(wecom_server, "user", user, "哪里没说清楚")
    [row] = rating_rows(stack, sender)
    assert (row["key"], row["value"]) == (f"answer:{rated['id']}", 0)
    assert outcome_of_owner_message(stack, sender, "没帮助") == "feedback"


def test_unsubscribe_and_resubscribe_in_a_bound_group(stack: Stack, wecom_server: FakeWeComServer) -> None:
    base17 = "91442000MA4W" + uuid.uuid4().hex[:5].upper()
    firm = base17 + uscc_check.calc_check_digit(base17)
    chat_id, member = f"chat{uuid.uuid4().hex[:8]}", owner()
    stack.admin("add-firm", "--uscc", firm, "--name", "中山市退订测试有限公司", "--level", "市级")
    stack.admin("bind-wecom-chat", "--chat-id", chat_id, "--uscc", firm)
    base = int(time.time() * 1000)

    def optouts() -> list[tuple[str, str]]:
        with Store(stack.env["DATABASE_URL"]).engine.connect() as con:
            return [
                (r.uscc, r.via)
                for r in con.execute(sa.select(push_optouts).where(push_optouts.c.uscc == firm))
            ]

    post_message(stack, member, "退订", base, chat_id=chat_id)
    sent_with(wecom_server, "chat", chat_id, feedback.STOPPED)
    assert optouts() == [(firm, "wecom-chat")]
    # A question that merely mentions it is the bot's.
    post_message(stack, member, "退订了还能申请补贴吗", base + 1, chat_id=chat_id)
    assert handled(stack, f"wecom:{chat_id}", "退订了还能申请补贴吗") == "processed"
    assert outcome_of_owner_message(stack, f"wecom:{chat_id}", "退订了还能申请补贴吗") != "feedback"
    post_message(stack, member, "恢复推送", base + 2, chat_id=chat_id)
    sent_with(wecom_server, "chat", chat_id, feedback.RESUMED_PUSHES)
    assert optouts() == []

    loner = owner()  # a direct chat bound to no firm: nothing to stop
    post_message(stack, loner, "退订", base + 3)
    sent_with(wecom_server, "user", loner, feedback.NO_FIRM_STOP)


def test_a_resolved_case_is_scored_with_a_digit(stack: Stack, wecom_server: FakeWeComServer) -> None:
    stack.add_liaison(*LIAISON)
    user, base = owner(), int(time.time() * 1000)
    sender = f"wecom:{user}"
    post_message(stack, user, "转人工", base)
    assert handled(stack, sender, "转人工") == "processed"
    esc_id = case_id_of(stack, sender)
    token = httpx.post(
        f"{stack.gateway}/api/liaison/login", json={"username": LIAISON[0], "password": LIAISON[1]}
    ).json()["token"]
    resp = httpx.post(
        f"{stack.gateway}/api/escalations/{esc_id}/resolve",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    [prompt] = sent_with(wecom_server, "user", user, feedback.ASK_SCORE)
    assert "回复4：4分 满意" in prompt
    assert any("机器人已恢复" in t for t in texts_to(wecom_server, "user", user))

    post_message(stack, user, "4", base + 1)
    sent_with(wecom_server, "user", user, "谢谢您的评价（4 分）")
    [row] = rating_rows(stack, sender)
    assert (row["key"], row["kind"], row["value"], row["escalation_id"]) == (
        f"case:{esc_id}",
        "case",
        4,
        esc_id,
    )
