"""WeCom end to end: encrypted callbacks into the real stack, answers out to the local fake WeCom API."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bench.stack import Stack
from gateway.data.schema import escalations, messages, utcnow
from gateway.data.store import Store
from tests.conftest import BOT_AES_KEY, BOT_TOKEN, WECOM_AES_KEY, WECOM_TOKEN
from tests.fakes.wecom_api import (
    CORP_ID,
    FakeWeComServer,
    aibot_callback,
    encrypted_callback,
    text_message_xml,
    verify_url_params,
)
from tests.polling import wait_for
from tests.webchat import WebChat

FIRM_USCC = "91442000MA4W0A1D4K"  # fictional, valid check character
LIAISON = ("wc_liaison", "wc-password-1", "周挂点", "市工业和信息化局", "zhou.guadian")


def stored(stack: Stack, sender_id: str) -> list[dict[str, Any]]:
    """A conversation as the gateway stored it (WeCom conversations are not served by the web API)."""
    return Store(stack.env["DATABASE_URL"]).messages_after(sender_id)


def post_message(
    stack: Stack,
    user: str,
    text: str,
    msg_id: int | str,
    chat_id: str | None = None,
    timestamp: int | None = None,
) -> httpx.Response:
    xml = text_message_xml(user, text, msg_id, chat_id=chat_id)
    params, body = encrypted_callback(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, xml, timestamp=timestamp)
    return httpx.post(f"{stack.gateway}/wecom/callback", params=params, content=body, timeout=10)


def texts_to(server: FakeWeComServer, kind: str, target: str) -> list[str]:
    return [content for to, content in server.fake.sent_texts(kind) if to == target]


def answered(server: FakeWeComServer, kind: str, target: str, needle: str) -> list[str]:
    """Every text sent to ``target``, once one of them contains ``needle`` (a marker message's answer).

    The positive signal of the "exactly once" checks: the gateway's WeCom worker processes a channel's
    stored messages in order and the outbox sends to each receiver in order, so once the answer to a
    marker sent after the retries has arrived, any duplicate answer would have arrived before it.
    """

    def check() -> list[str]:
        texts = texts_to(server, kind, target)
        return texts if any(needle in t for t in texts) else []

    return list(wait_for(check, what=f"an answer containing {needle!r} at the fake API"))


def before_first(texts: list[str], needle: str) -> list[str]:
    """The texts sent before the first one containing ``needle``."""
    return texts[: next(i for i, t in enumerate(texts) if needle in t)]


def handled(stack: Stack, sender_id: str, text: str) -> str:
    """Wait until the WeCom worker has taken the owner's stored message through a turn; its final
    status (``held`` for the liaison, ``processed`` when the bot answered, …)."""
    store = Store(stack.env["DATABASE_URL"])

    def check() -> str | None:
        with store.engine.connect() as con:
            status = con.execute(
                sa.select(messages.c.status)
                .where(messages.c.sender_id == sender_id, messages.c.role == "user", messages.c.text == text)
                .order_by(messages.c.id.desc())
                .limit(1)
            ).scalar()
        return None if status in (None, "stored", "processing") else str(status)

    try:
        return str(wait_for(check, what=f"the worker to handle {text!r}"))
    finally:
        store.engine.dispose()


def case_id_of(stack: Stack, sender_id: str) -> int:
    """The conversation's latest case (the console's list does not show conversations)."""
    with Store(stack.env["DATABASE_URL"]).engine.connect() as con:
        found = con.execute(
            sa.select(escalations.c.id)
            .where(escalations.c.sender_id == sender_id)
            .order_by(escalations.c.id.desc())
            .limit(1)
        ).scalar()
    assert found is not None, f"no case for {sender_id}"
    return int(found)


@pytest.fixture(scope="module")
def bound_group(stack: Stack) -> str:
    username, password, name, department, wecom_id = LIAISON
    stack.add_liaison(username, password, name, department, wecom_userid=wecom_id)
    stack.admin(
        "add-firm",
        "--uscc",
        FIRM_USCC,
        "--name",
        "中山市测试厨电有限公司",
        "--level",
        "省级",
        "--liaison",
        username,
    )
    chat_id = f"chat{uuid.uuid4().hex[:8]}"
    stack.admin("bind-wecom-chat", "--chat-id", chat_id, "--uscc", FIRM_USCC)
    return chat_id


def test_url_verification_answers_the_echo(stack: Stack) -> None:
    params = verify_url_params(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, "echo-1234567890")
    resp = httpx.get(f"{stack.gateway}/wecom/callback", params=params)
    assert resp.status_code == 200
    assert resp.text == "echo-1234567890"
    bad = {**params, "msg_signature": "0" * 40}
    assert httpx.get(f"{stack.gateway}/wecom/callback", params=bad).status_code == 403


def test_direct_message_gets_a_cited_answer_exactly_once(stack: Stack, wecom_server: FakeWeComServer) -> None:
    user = f"owner{uuid.uuid4().hex[:6]}"
    msg_id = int(time.time() * 1000)
    started = time.monotonic()
    resp = post_message(stack, user, "专精特新企业增长30%有什么补贴", msg_id)
    assert resp.status_code == 200
    assert resp.text == ""
    assert time.monotonic() - started < 2.0  # acknowledged well within WeCom's 5 s
    answers = wait_for(lambda: texts_to(wecom_server, "user", user), what="answer at the fake API")
    assert "10-100 万元" in answers[0]
    assert "依据：答复函 三（二）" in answers[0]
    for _ in range(2):  # WeCom retries the same MsgId
        assert post_message(stack, user, "专精特新企业增长30%有什么补贴", msg_id).status_code == 200
    # A marker after the retries, from the same user: once it is answered, a second answer to the
    # question would have been sent already (one worker, messages and sends in order).
    assert post_message(stack, user, "股改资助最多多少", msg_id + 1).status_code == 200
    texts = answered(wecom_server, "user", user, "200 万元")
    assert before_first(texts, "200 万元") == answers
    owner_texts = [m["text"] for m in stored(stack, f"wecom:{user}") if m["role"] == "user"]
    assert owner_texts == ["专精特新企业增长30%有什么补贴", "股改资助最多多少"]
    # The web API serves web conversations only: a WeCom user's conversation is neither readable nor writable.
    web = f"{stack.gateway}/api/conversations/wecom:{user}"
    assert httpx.get(f"{web}/messages").status_code == 400
    assert httpx.get(f"{web}/stream").status_code == 400
    assert httpx.delete(web).status_code == 400
    forged = httpx.post(
        f"{stack.gateway}/api/chat", json={"sender_id": f"wecom:{user}", "text": "冒充的消息"}
    )
    assert forged.status_code == 400
    assert "wecom" in forged.json()["detail"]
    assert [m["text"] for m in stored(stack, f"wecom:{user}") if m["role"] == "user"] == owner_texts


def test_forged_stale_and_foreign_callbacks_are_refused(stack: Stack, wecom_server: FakeWeComServer) -> None:
    user = f"forger{uuid.uuid4().hex[:6]}"
    xml = text_message_xml(user, "你好", 1)
    params, body = encrypted_callback(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, xml)
    forged = {**params, "msg_signature": "f" * 40}
    assert httpx.post(f"{stack.gateway}/wecom/callback", params=forged, content=body).status_code == 403
    stale = post_message(stack, user, "你好", 2, timestamp=int(time.time()) - 3600)
    assert stale.status_code == 403
    params, body = encrypted_callback(
        WECOM_TOKEN, WECOM_AES_KEY, "wwanothercorp", text_message_xml(user, "你好", 3)
    )
    assert httpx.post(f"{stack.gateway}/wecom/callback", params=params, content=body).status_code == 403
    garbage = httpx.post(
        f"{stack.gateway}/wecom/callback", params=params, content=b"<xml><Encrypt>@@</Encrypt>"
    )
    assert garbage.status_code in (400, 403)
    # A genuine message from the same user through the same callback: once it is answered, anything
    # the refused callbacks had let in would have been stored and answered before it.
    assert post_message(stack, user, "股改资助最多多少", int(time.time() * 1000)).status_code == 200
    texts = answered(wecom_server, "user", user, "200 万元")
    assert before_first(texts, "200 万元") == []
    assert [m["text"] for m in stored(stack, f"wecom:{user}") if m["role"] == "user"] == ["股改资助最多多少"]


def test_group_handoff_liaison_in_group_console_reply_and_resume(
    stack: Stack, wecom_server: FakeWeComServer, bound_group: str
) -> None:
    chat_id, owner = bound_group, f"boss{uuid.uuid4().hex[:6]}"
    base = int(time.time() * 1000)
    post_message(stack, owner, "增长补贴的申请材料有哪些", base, chat_id=chat_id)
    wait_for(
        lambda: any("答复函没有写明" in t for t in texts_to(wecom_server, "chat", chat_id)), what="decline"
    )
    told = len(texts_to(wecom_server, "user", LIAISON[4]))  # other tests notify this liaison too
    post_message(stack, owner, "转人工", base + 1, chat_id=chat_id)
    notice = wait_for(lambda: texts_to(wecom_server, "user", LIAISON[4])[told:], what="liaison notification")
    assert "中山市测试厨电有限公司" in notice[-1]
    assert "增长补贴的申请材料有哪些" in notice[-1]
    assert "/console" in notice[-1]
    wait_for(
        lambda: any("周挂点" in t for t in texts_to(wecom_server, "chat", chat_id)), what="handoff reply"
    )

    before = len(texts_to(wecom_server, "chat", chat_id))
    post_message(stack, LIAISON[4], "您好，我是挂点的周工，材料清单稍后发群里。", base + 2, chat_id=chat_id)
    post_message(stack, owner, "好的，谢谢周工", base + 3, chat_id=chat_id)
    # The worker has taken the owner's message through its turn: held for the liaison, not answered.
    assert handled(stack, f"wecom:{chat_id}", "好的，谢谢周工") == "held"
    roles = [(m["role"], m["text"]) for m in stored(stack, f"wecom:{chat_id}")]
    assert ("liaison", "您好，我是挂点的周工，材料清单稍后发群里。") in roles
    assert roles[-1] == ("user", "好的，谢谢周工")  # no bot reply stored after it

    token = httpx.post(
        f"{stack.gateway}/api/liaison/login", json={"username": LIAISON[0], "password": LIAISON[1]}
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    esc_id = case_id_of(stack, f"wecom:{chat_id}")
    listed = httpx.get(f"{stack.gateway}/api/escalations", params={"limit": 200}, headers=auth).json()
    assert esc_id in [e["id"] for e in listed["items"]]
    assert (
        httpx.post(
            f"{stack.gateway}/api/escalations/{esc_id}/reply",
            json={"text": "材料：营业执照、财务报表。"},
            headers=auth,
        ).status_code
        == 200
    )
    # The console reply goes to the same group, queued after that turn: the group's next message.
    texts = answered(wecom_server, "chat", chat_id, "材料：营业执照、财务报表。")
    assert texts[before : before + 1] == ["材料：营业执照、财务报表。"]  # the bot stayed silent
    httpx.post(f"{stack.gateway}/api/escalations/{esc_id}/resolve", headers=auth)
    wait_for(
        lambda: any("机器人已恢复" in t for t in texts_to(wecom_server, "chat", chat_id)),
        what="resume notice",
    )
    post_message(stack, owner, "股改资助最多多少", base + 4, chat_id=chat_id)
    wait_for(
        lambda: any("200 万元" in t for t in texts_to(wecom_server, "chat", chat_id)),
        what="bot answers again",
    )


def test_expired_token_is_refetched(stack: Stack, wecom_server: FakeWeComServer) -> None:
    user = f"owner{uuid.uuid4().hex[:6]}"
    post_message(stack, user, "你好", int(time.time() * 1000))
    wait_for(lambda: texts_to(wecom_server, "user", user), what="first answer")
    fetches = wecom_server.fake.token_fetches()
    wecom_server.fake.expire_tokens()
    post_message(stack, user, "新型学徒制培训有补贴吗", int(time.time() * 1000) + 1)
    answers = wait_for(
        lambda: [t for t in texts_to(wecom_server, "user", user) if "学徒" in t], what="answer"
    )
    assert "四（四）" in answers[0]
    assert wecom_server.fake.token_fetches() == fetches + 1


def test_group_bot_mention_is_answered_through_its_response_url(
    stack: Stack, wecom_server: FakeWeComServer
) -> None:
    code = uuid.uuid4().hex
    chat_id = f"botchat{code[:6]}"
    payload = {
        "msgid": uuid.uuid4().hex,
        "aibotid": "AIBOTID",
        "chatid": chat_id,
        "chattype": "group",
        "from": {"userid": "someone"},
        "response_url": wecom_server.fake.new_response_url(code),
        "msgtype": "text",
        "text": {"content": "@惠企通 中行对专精特新有什么融资支持"},
    }
    params, body = aibot_callback(BOT_TOKEN, BOT_AES_KEY, payload)
    assert httpx.post(f"{stack.gateway}/wecom/bot/callback", params=params, content=body).status_code == 200
    answer = wait_for(
        lambda: [t for to, t in wecom_server.fake.sent_texts("aibot") if to == code], what="bot answer"
    )
    assert "三（三）" in answer[0]
    assert httpx.post(f"{stack.gateway}/wecom/bot/callback", params=params, content=body).status_code == 200
    # A marker: another mention in the same group, with a response_url of its own. Once it is answered,
    # a second answer to the retried message would have been sent (the outbox sends in queue order).
    marker_code = uuid.uuid4().hex
    marker = {
        **payload,
        "msgid": uuid.uuid4().hex,
        "response_url": wecom_server.fake.new_response_url(marker_code),
        "text": {"content": "@惠企通 股改资助最多多少"},
    }
    params, body = aibot_callback(BOT_TOKEN, BOT_AES_KEY, marker)
    assert httpx.post(f"{stack.gateway}/wecom/bot/callback", params=params, content=body).status_code == 200
    marker_answer = wait_for(lambda: texts_to(wecom_server, "aibot", marker_code), what="marker answer")
    assert len(marker_answer) == 1
    assert "200 万元" in marker_answer[0]  # the marker's own answer, not a repeat that took its URL
    # Every call to the first response_url, refused ones too (a used response_code is refused, so a
    # repeat there would not show among the delivered texts), and no fallback message to the group.
    assert len([c for c in wecom_server.fake.calls if c.params.get("response_code") == code]) == 1
    assert texts_to(wecom_server, "chat", chat_id) == []


def test_nothing_was_dropped_or_oversized(stack: Stack, wecom_server: FakeWeComServer) -> None:
    """No send of this session so far was dropped by a rate limit or refused for its size; the test
    sends one answer of its own, so it checks something in whatever order the tests run."""
    user = f"owner{uuid.uuid4().hex[:6]}"
    post_message(stack, user, "你好", int(time.time() * 1000))
    wait_for(lambda: texts_to(wecom_server, "user", user), what="an answer")
    calls = wecom_server.fake.calls
    assert calls
    assert not [c for c in calls if c.dropped]
    assert not [c for c in calls if c.errcode == 45002]


def test_eligibility_verdict_in_wecom(stack: Stack, wecom_server: FakeWeComServer) -> None:
    user = f"owner{uuid.uuid4().hex[:6]}"
    post_message(stack, user, "我们是市级专精特新，打算明年股改，能拿股改资助吗", int(time.time() * 1000))
    verdict = wait_for(
        lambda: [t for t in texts_to(wecom_server, "user", user) if "股份制改造资助" in t], what="verdict"
    )
    assert "✅" in verdict[0]
    assert "符合" in verdict[0]
    assert "三（二）" in verdict[0]


def test_numbered_option_answers_a_button(stack: Stack, wecom_server: FakeWeComServer) -> None:
    user = f"owner{uuid.uuid4().hex[:6]}"
    base = int(time.time() * 1000)
    post_message(stack, user, "你好", base)
    greeting = wait_for(lambda: texts_to(wecom_server, "user", user), what="greeting")
    assert "回复1：我们公司能享受哪些政策？" in greeting[0]
    post_message(stack, user, "1", base + 1)  # the first option: /match_policies
    wait_for(
        lambda: any("哪一级" in t for t in texts_to(wecom_server, "user", user)), what="match form question"
    )


def overdue(stack: Stack, esc_id: int) -> None:
    """The case's first-response deadline passes with nobody having taken it."""
    with Store(stack.env["DATABASE_URL"]).tx() as con:
        con.execute(
            escalations.update()
            .where(escalations.c.id == esc_id)
            .values(due_at=utcnow() - timedelta(minutes=1))
        )


def overdue_reminders(server: FakeWeComServer, esc_id: int) -> list[str]:
    return [t for t in texts_to(server, "user", LIAISON[4]) if f"已超时】工单#{esc_id}（" in t]


def same_queue_case(stack: Stack, esc_id: int) -> int:
    """A new case of another web conversation, routed as the case ``esc_id`` was (its handoff packet)."""
    with Store(stack.env["DATABASE_URL"]).engine.connect() as con:
        packet = json.loads(
            con.execute(sa.select(escalations.c.packet).where(escalations.c.id == esc_id)).scalar_one()
        )
    resp = httpx.post(
        f"{stack.gateway}/internal/handoff",
        json={**packet, "sender_id": f"web-{uuid.uuid4().hex}"},
        headers={"X-Handoff-Secret": stack.env["HANDOFF_SECRET"]},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] is True
    return int(resp.json()["escalation_id"])


@pytest.mark.usefixtures("bound_group")
def test_an_unclaimed_case_past_its_deadline_reminds_in_wecom_once(
    stack: Stack, wecom_server: FakeWeComServer
) -> None:
    owner = WebChat(stack.gateway)
    owner.send("数字化转型贷款贴息的申请材料有哪些")
    esc_id = owner.send("转人工")["handoff"]["escalation_id"]
    wait_for(
        lambda: [t for t in texts_to(wecom_server, "user", LIAISON[4]) if f"工单#{esc_id}\n" in t],
        what="handoff notice",
    )
    overdue(stack, esc_id)
    late = wait_for(lambda: overdue_reminders(wecom_server, esc_id), what="overdue reminder")
    assert "/console#esc-" in late[0]
    # Later rounds of the reminder loop (every second in the test stack) must not remind again. The
    # positive signal that a whole round has gone past this case: two more cases of the same queue,
    # made overdue one after the other, each reminder waited for. The first marker's round came after
    # the round that reminded of this case, and the second marker's round began after the first
    # marker's round had ended; that round's rows to the liaison are queued after any repeat of this
    # case's reminder, and the outbox sends to each receiver in order.
    for _ in range(2):
        marker = same_queue_case(stack, esc_id)
        overdue(stack, marker)
        wait_for(partial(overdue_reminders, wecom_server, marker), what="a later case's overdue reminder")
    assert overdue_reminders(wecom_server, esc_id) == late[:1]
