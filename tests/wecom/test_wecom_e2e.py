"""WeCom end to end: encrypted callbacks into the real stack, answers out to the local fake WeCom API."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bench.stack import Stack
from gateway.store import Store, escalations, utcnow
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


@pytest.fixture(scope="module")
def bound_group(stack: Stack) -> str:
    username, password, name, department, wecom_id = LIAISON
    stack.admin(
        "add-liaison",
        "--username",
        username,
        "--password",
        password,
        "--name",
        name,
        "--department",
        department,
        "--wecom-userid",
        wecom_id,
    )
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
    time.sleep(2.0)
    assert len(texts_to(wecom_server, "user", user)) == len(answers)
    assert [m["role"] for m in stored(stack, f"wecom:{user}")].count("user") == 1
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
    assert [m["role"] for m in stored(stack, f"wecom:{user}")].count("user") == 1


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
    time.sleep(1.0)
    assert texts_to(wecom_server, "user", user) == []
    assert stored(stack, f"wecom:{user}") == []


def test_group_handoff_liaison_in_group_console_reply_and_resume(
    stack: Stack, wecom_server: FakeWeComServer, bound_group: str
) -> None:
    chat_id, owner = bound_group, f"boss{uuid.uuid4().hex[:6]}"
    base = int(time.time() * 1000)
    post_message(stack, owner, "增长补贴的申请材料有哪些", base, chat_id=chat_id)
    wait_for(
        lambda: any("答复函没有写明" in t for t in texts_to(wecom_server, "chat", chat_id)), what="decline"
    )
    post_message(stack, owner, "转人工", base + 1, chat_id=chat_id)
    notice = wait_for(lambda: texts_to(wecom_server, "user", LIAISON[4]), what="liaison notification")
    assert "中山市测试厨电有限公司" in notice[-1]
    assert "增长补贴的申请材料有哪些" in notice[-1]
    assert "/console" in notice[-1]
    wait_for(
        lambda: any("周挂点" in t for t in texts_to(wecom_server, "chat", chat_id)), what="handoff reply"
    )

    before = len(texts_to(wecom_server, "chat", chat_id))
    post_message(stack, LIAISON[4], "您好，我是挂点的周工，材料清单稍后发群里。", base + 2, chat_id=chat_id)
    post_message(stack, owner, "好的，谢谢周工", base + 3, chat_id=chat_id)
    messages = wait_for(
        lambda: [m for m in stored(stack, f"wecom:{chat_id}") if m["text"] == "好的，谢谢周工"],
        what="owner message stored",
    )
    assert messages
    roles = [(m["role"], m["text"]) for m in stored(stack, f"wecom:{chat_id}")]
    assert ("liaison", "您好，我是挂点的周工，材料清单稍后发群里。") in roles
    time.sleep(1.5)
    assert len(texts_to(wecom_server, "chat", chat_id)) == before  # the bot stays silent

    token = httpx.post(
        f"{stack.gateway}/api/liaison/login", json={"username": LIAISON[0], "password": LIAISON[1]}
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    esc = [
        e
        for e in httpx.get(f"{stack.gateway}/api/escalations", headers=auth).json()
        if e["sender_id"] == f"wecom:{chat_id}"
    ][0]
    httpx.post(
        f"{stack.gateway}/api/escalations/{esc['id']}/reply",
        json={"text": "材料：营业执照、财务报表。"},
        headers=auth,
    )
    wait_for(
        lambda: "材料：营业执照、财务报表。" in texts_to(wecom_server, "chat", chat_id),
        what="console reply in group",
    )
    httpx.post(f"{stack.gateway}/api/escalations/{esc['id']}/resolve", headers=auth)
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
    payload = {
        "msgid": uuid.uuid4().hex,
        "aibotid": "AIBOTID",
        "chatid": f"botchat{code[:6]}",
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
    time.sleep(1.0)
    assert len([1 for to, _ in wecom_server.fake.sent_texts("aibot") if to == code]) == 1


def test_nothing_was_dropped_or_oversized(wecom_server: FakeWeComServer) -> None:
    calls = wecom_server.fake.calls
    assert calls, "the WeCom tests above sent nothing"
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


@pytest.mark.usefixtures("bound_group")
def test_an_unclaimed_case_past_its_deadline_reminds_in_wecom_once(
    stack: Stack, wecom_server: FakeWeComServer
) -> None:
    owner = WebChat(stack.gateway)
    owner.send("数字化转型贷款贴息的申请材料有哪些")
    esc_id = owner.send("转人工")["handoff"]["escalation_id"]
    wait_for(
        lambda: [t for t in texts_to(wecom_server, "user", LIAISON[4]) if f"工单#{esc_id}" in t],
        what="handoff notice",
    )
    store = Store(stack.env["DATABASE_URL"])
    with store.tx() as con:  # the deadline passes with nobody having taken the case
        con.execute(
            escalations.update()
            .where(escalations.c.id == esc_id)
            .values(due_at=utcnow() - timedelta(minutes=1))
        )
    late = wait_for(
        lambda: [t for t in texts_to(wecom_server, "user", LIAISON[4]) if f"已超时】工单#{esc_id}" in t],
        what="overdue reminder",
    )
    assert "/console#esc-" in late[0]
    time.sleep(2.5)  # a few more rounds of the reminder loop (REMINDER_INTERVAL_S=1 in the test stack)
    assert len([t for t in texts_to(wecom_server, "user", LIAISON[4]) if f"已超时】工单#{esc_id}" in t]) == 1
