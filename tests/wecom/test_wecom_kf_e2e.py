"""微信客服 end to end: encrypted kf_msg_or_event callbacks into the real stack, messages pulled from and
answers sent to the local fake of WeCom's kf/* API."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bench.stack import Stack
from gateway.admin import demo_uscc
from gateway.data.schema import conversations, escalations, messages, outbound
from gateway.data.store import Store
from gateway.data.wecom import KfState
from gateway.services import Services
from gateway.wecom.kf import KfChannel
from gateway.wecom.outbox import Outbox
from huiqitong.settings import Settings
from tests.conftest import KF_AES_KEY, KF_TOKEN, WECOM_AES_KEY, WECOM_TOKEN, wecom_env
from tests.fakes.wecom_api import (
    CORP_ID,
    OPEN_KFID,
    FakeWeComServer,
    encrypted_callback,
    kf_event_xml,
    text_message_xml,
    verify_url_params,
)
from tests.polling import wait_for

FIRM = (demo_uscc("91442000MA4W0K1F7"), "中山市测试微客服五金有限公司")
UNREGISTERED = demo_uscc("91442000MA4W0K9X8")
LIAISON = ("kf_liaison", "kf-password-1", "吴挂点", "市工业和信息化局", "wu.guadian")
OTHER = ("kf_other", "kf-password-2", "郑科员", "市科技局")


def callback(token: str, open_kfid: str = OPEN_KFID) -> tuple[dict[str, str], bytes]:
    """WeCom's POST for a kf_msg_or_event: params and encrypted body."""
    return encrypted_callback(KF_TOKEN, KF_AES_KEY, CORP_ID, kf_event_xml(token, open_kfid))


def post(
    stack: Stack, request: tuple[dict[str, str], bytes], path: str = "/wecom/kf/callback"
) -> httpx.Response:
    params, body = request
    return httpx.post(f"{stack.gateway}{path}", params=params, content=body, timeout=10)


def says(stack: Stack, server: FakeWeComServer, user: str, text: str) -> str:
    """The owner writes in WeChat and WeCom calls back; returns the msgid."""
    msgid = server.fake.kf.customer_says(user, text)
    assert post(stack, callback(server.fake.kf.new_msg_token())).status_code == 200
    return msgid


def sent(server: FakeWeComServer, user: str) -> list[str]:
    return server.fake.kf.sent(user)


def conversation(user: str) -> str:
    return f"wecomkf:{OPEN_KFID}:{user}"


def stored(stack: Stack, user: str) -> list[dict[str, Any]]:
    return Store(stack.env["DATABASE_URL"]).messages_after(conversation(user))


def owner_texts(stack: Stack, user: str) -> list[str]:
    return [m["text"] for m in stored(stack, user) if m["role"] == "user"]


def answered(server: FakeWeComServer, user: str, needle: str) -> list[str]:
    """Every text sent to the customer, once one of them contains ``needle`` (a marker's answer).

    The positive signal of the "exactly once" checks: messages are pulled in order, the worker answers
    a channel's stored messages in order and the outbox sends to each receiver in order, so once the
    answer to a marker the customer wrote after the retries has arrived, any repeat arrived before it.
    """

    def check() -> list[str]:
        texts = sent(server, user)
        return texts if any(needle in t for t in texts) else []

    return list(wait_for(check, what=f"an answer containing {needle!r}"))


def before_first(texts: list[str], needle: str) -> list[str]:
    """The texts sent before the first one containing ``needle``."""
    return texts[: next(i for i, t in enumerate(texts) if needle in t)]


def handled(stack: Stack, user: str, text: str) -> str:
    """Wait until the worker has taken the customer's stored message through a turn; its final status
    (``held`` for the liaison, ``processed`` when the bot answered, …)."""
    store = Store(stack.env["DATABASE_URL"])

    def check() -> str | None:
        with store.engine.connect() as con:
            status = con.execute(
                sa.select(messages.c.status)
                .where(
                    messages.c.sender_id == conversation(user),
                    messages.c.role == "user",
                    messages.c.text == text,
                )
                .order_by(messages.c.id.desc())
                .limit(1)
            ).scalar()
        return None if status in (None, "stored", "processing") else str(status)

    try:
        return str(wait_for(check, what=f"the worker to handle {text!r}"))
    finally:
        store.engine.dispose()


def new_user() -> str:
    return f"wm{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def console(stack: Stack) -> dict[str, str]:
    """The firm, its liaison (also in WeCom) and another department's liaison; the liaison's auth header."""
    username, password, name, department, wecom_id = LIAISON
    stack.add_liaison(username, password, name, department, wecom_userid=wecom_id)
    stack.add_liaison(OTHER[0], OTHER[1], OTHER[2], OTHER[3])
    stack.admin("add-firm", "--uscc", FIRM[0], "--name", FIRM[1], "--level", "市级", "--liaison", username)
    return login(stack, username, password)


def login(stack: Stack, username: str, password: str) -> dict[str, str]:
    resp = httpx.post(f"{stack.gateway}/api/liaison/login", json={"username": username, "password": password})
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def case_of(stack: Stack, auth: dict[str, str], user: str, other_than: int | None = None) -> dict[str, Any]:
    """The customer's case (the first, or the first but ``other_than``), as the liaison sees it: in
    their case list (which does not show conversations: the id comes from the store) and opened."""

    store = Store(stack.env["DATABASE_URL"])

    def find() -> list[int]:
        with store.engine.connect() as con:
            ids = con.execute(
                sa.select(escalations.c.id)
                .where(escalations.c.sender_id == conversation(user))
                .order_by(escalations.c.id)
            ).scalars()
            return [int(i) for i in ids if i != other_than]

    try:
        esc_id = wait_for(find, what="the case")[0]
    finally:
        store.engine.dispose()
    listed = httpx.get(f"{stack.gateway}/api/escalations", params={"limit": 200}, headers=auth).json()
    assert esc_id in [e["id"] for e in listed["items"]]
    resp = httpx.get(f"{stack.gateway}/api/escalations/{esc_id}", headers=auth)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def hand_off(stack: Stack, server: FakeWeComServer, user: str) -> None:
    """The owner asks what the letter does not say, then for a person."""
    says(stack, server, user, "增长补贴的申请材料有哪些")
    wait_for(lambda: any("答复函没有写明" in t for t in sent(server, user)), what="the decline")
    says(stack, server, user, "转人工")
    wait_for(lambda: any("已为您转接" in t for t in sent(server, user)), what="the handoff answer")


def test_kf_pull_stores_each_message_once_from_its_cursor(
    tmp_path: Path, wecom_server: FakeWeComServer
) -> None:
    """The pull alone, on a real store against the fake (no Rasa needed to store messages)."""
    env: dict[str, Any] = {k.lower(): v for k, v in wecom_env(wecom_server).items()}
    services = Services.build(
        Settings(**env, database_url=f"sqlite:///{tmp_path / 'kf.db'}", var_dir=tmp_path)
    )
    outbox = Outbox(services.store, services.settings)
    kf, fake, state = (
        KfChannel(services, outbox, outbox.kf, asyncio.Event()),
        wecom_server.fake.kf,
        KfState(services.store),
    )
    open_kfid = fake.add_account()
    texts = [f"问题{i}" for i in range(5)]
    for text in texts:
        fake.customer_says("wm_P", text, open_kfid=open_kfid)
    fake.page_size = 2  # three pages, has_more on the first two
    try:
        asyncio.run(kf.on_event(open_kfid, "ENCnever-issued"))
        assert asyncio.run(kf.pull(open_kfid)) == 0  # 95007: the Token is forgotten ...
        assert state.cursor(open_kfid).token is None
        assert asyncio.run(kf.pull(open_kfid)) == 0  # ... and nothing is pulled until a callback brings one
        asyncio.run(kf.on_event(open_kfid, fake.new_msg_token()))
        assert asyncio.run(kf.pull(open_kfid)) == 5
        sender = f"wecomkf:{open_kfid}:wm_P"
        assert [m["text"] for m in services.store.messages_after(sender)] == texts
        assert state.cursor(open_kfid).cursor
        assert state.accounts_with_fresh_tokens() == [open_kfid]
        assert asyncio.run(kf.pull(open_kfid)) == 0  # nothing new after the cursor
        state.save_cursor(open_kfid, "")  # as if the cursor's write had been lost in a crash
        assert asyncio.run(kf.pull(open_kfid)) == 5  # read again from the start ...
        assert [m["text"] for m in services.store.messages_after(sender)] == texts  # ... stored once
    finally:
        fake.page_size = 1000
        asyncio.run(services.rasa.close())
        outbox.kf.close()
    services.registry.add_firm({"uscc": FIRM[0], "name": FIRM[1]})
    services.store.add_message(f"wecomkf:{open_kfid}:wmAP", "user", "另一位客户", channel="wecomkf")
    assert state.bind(services.registry, "wm_P", FIRM[0], "test") == FIRM[0]
    with services.store.engine.connect() as con:
        bound = dict(
            con.execute(
                conversations.select().with_only_columns(conversations.c.sender_id, conversations.c.firm_uscc)
            ).all()
        )
    assert bound == {sender: FIRM[0], f"wecomkf:{open_kfid}:wmAP": None}  # "_" is not a wildcard


def test_kf_url_verification(stack: Stack) -> None:
    params = verify_url_params(KF_TOKEN, KF_AES_KEY, CORP_ID, "kf-echo-123")
    resp = httpx.get(f"{stack.gateway}/wecom/kf/callback", params=params)
    assert resp.status_code == 200
    assert resp.text == "kf-echo-123"
    app_signed = verify_url_params(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, "kf-echo-123")
    assert httpx.get(f"{stack.gateway}/wecom/kf/callback", params=app_signed).status_code == 403


def test_kf_message_answered_once_whatever_the_callbacks(stack: Stack, wecom_server: FakeWeComServer) -> None:
    user = new_user()
    wecom_server.fake.kf.customer_says(user, "专精特新企业增长30%有什么补贴")
    never_issued = f"ENCnever-issued-{uuid.uuid4().hex}"
    forged = callback(never_issued)  # signed correctly, but WeCom never issued this Token
    assert post(stack, forged).status_code == 200
    # The positive signal: the gateway has made its pull with the forged Token, and WeCom refused it.
    pulls = wait_for(
        lambda: [
            c
            for c in wecom_server.fake.calls
            if c.path.endswith("kf/sync_msg") and (c.json or {}).get("token") == never_issued
        ],
        what="the pull with the forged Token",
    )
    assert [c.errcode for c in pulls] == [95007]  # nothing handed out, so nothing to store or answer
    assert sent(wecom_server, user) == []
    assert stored(stack, user) == []
    event = callback(wecom_server.fake.kf.new_msg_token())
    started = time.monotonic()
    resp = post(stack, event)
    assert resp.status_code == 200
    assert resp.text == ""
    assert time.monotonic() - started < 2.0
    answers = wait_for(lambda: sent(wecom_server, user), what="the answer through kf/send_msg")
    assert "10-100 万元" in answers[0]
    assert "依据：答复函 三（二）" in answers[0]
    for _ in range(2):  # WeCom retries the callback
        assert post(stack, event).status_code == 200
    app = encrypted_callback(
        WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, kf_event_xml(wecom_server.fake.kf.new_msg_token())
    )
    assert post(stack, app, "/wecom/callback").status_code == 200  # the same event at the app's callback
    says(stack, wecom_server, user, "股改资助最多多少")  # a marker after the retries
    texts = answered(wecom_server, user, "200 万元")
    assert before_first(texts, "200 万元") == answers
    assert owner_texts(stack, user) == ["专精特新企业增长30%有什么补贴", "股改资助最多多少"]
    bad = ({**event[0], "msg_signature": "0" * 40}, event[1])
    assert post(stack, bad).status_code == 403
    # 微信客服 conversations are not served by the web API.
    assert httpx.get(f"{stack.gateway}/api/conversations/{conversation(user)}/messages").status_code == 400
    wecom_server.fake.kf.customer_says(user, "", msgtype="image")
    post(stack, callback(wecom_server.fake.kf.new_msg_token()))
    wait_for(lambda: any("文字" in t for t in sent(wecom_server, user)), what="only-text notice")


def test_kf_welcome_on_enter_session_with_numbered_options(
    stack: Stack, wecom_server: FakeWeComServer
) -> None:
    user = new_user()
    code = wecom_server.fake.kf.enter_session(user, scene="portal")
    assert code
    post(stack, callback(wecom_server.fake.kf.new_msg_token()))
    welcome = wait_for(lambda: sent(wecom_server, user), what="the welcome")
    assert len(welcome) == 1
    assert "惠企通" in welcome[0]
    assert "回复1：我们公司能享受哪些政策？" in welcome[0]
    assert [c for c in wecom_server.fake.calls if c.path.endswith("kf/send_msg_on_event")][-1].json[
        "code"
    ] == code
    says(stack, wecom_server, user, "1")  # the welcome's first option
    wait_for(lambda: any("哪一级" in t for t in sent(wecom_server, user)), what="the match form's question")


def test_kf_handoff_answered_in_console_and_wecom_reaches_the_owner(
    stack: Stack, wecom_server: FakeWeComServer, console: dict[str, str]
) -> None:
    user = new_user()
    stack.admin("bind-wecom-kf", "--external-userid", user, "--uscc", FIRM[0])
    hand_off(stack, wecom_server, user)
    esc = case_of(stack, console, user)
    notice = wait_for(
        lambda: [
            t
            for to, t in wecom_server.fake.sent_texts("user")
            if to == LIAISON[4] and f"转人工】工单#{esc['id']}\n" in t
        ],
        what="the liaison's WeCom notice",
    )
    assert FIRM[1] in notice[-1]
    assert "增长补贴的申请材料有哪些" in notice[-1]
    assert (esc["firm_uscc"], esc["liaison_username"], esc["channel"]) == (FIRM[0], LIAISON[0], "wecomkf")
    before = len(sent(wecom_server, user))
    says(stack, wecom_server, user, "还在吗？")
    # The worker has taken the message through its turn: held for the liaison, not answered.
    assert handled(stack, user, "还在吗？") == "held"
    assert stored(stack, user)[-1]["text"] == "还在吗？"  # no bot reply stored after it

    api = f"{stack.gateway}/api/escalations/{esc['id']}"
    assert (
        httpx.post(f"{api}/reply", json={"text": "材料：营业执照、财务报表。"}, headers=console).status_code
        == 200
    )
    # The console reply goes to the same customer, queued after that turn: the customer's next message.
    texts = answered(wecom_server, user, "材料：营业执照、财务报表。")
    assert texts[before : before + 1] == ["材料：营业执照、财务报表。"]  # the bot stayed silent
    xml = text_message_xml(LIAISON[4], f"#{esc['id']} 另需近两年审计报告。", int(time.time() * 1000))
    params, body = encrypted_callback(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, xml)
    assert httpx.post(f"{stack.gateway}/wecom/callback", params=params, content=body).status_code == 200
    wait_for(lambda: "另需近两年审计报告。" in sent(wecom_server, user), what="the reply written in WeCom")
    assert httpx.post(f"{api}/resolve", headers=console).status_code == 200
    wait_for(lambda: any("机器人已恢复" in t for t in sent(wecom_server, user)), what="the resume notice")
    says(stack, wecom_server, user, "股改资助最多多少")
    wait_for(lambda: any("200 万元" in t for t in sent(wecom_server, user)), what="the bot answering again")
    roles = [(m["role"], m["text"]) for m in stored(stack, user)]
    assert ("liaison", "材料：营业执照、财务报表。") in roles
    assert ("liaison", "另需近两年审计报告。") in roles


def test_kf_95018_is_reported_in_the_case_and_the_reply_kept(
    stack: Stack, wecom_server: FakeWeComServer, console: dict[str, str]
) -> None:
    user = new_user()
    stack.admin("bind-wecom-kf", "--external-userid", user, "--uscc", FIRM[0])
    hand_off(stack, wecom_server, user)
    esc = case_of(stack, console, user)
    wecom_server.fake.kf.servicer_says(
        user, "您好，我是客服接待人员。"
    )  # a 接待人员 takes it in WeCom (state 3)
    post(stack, callback(wecom_server.fake.kf.new_msg_token()))
    wait_for(
        lambda: any(m["text"] == "您好，我是客服接待人员。" for m in stored(stack, user)),
        what="servicer message",
    )
    before = len(sent(wecom_server, user))
    api = f"{stack.gateway}/api/escalations/{esc['id']}"
    assert (
        httpx.post(f"{api}/reply", json={"text": "补贴申请请联系工信局。"}, headers=console).status_code
        == 200
    )
    failed = wait_for(
        lambda: [
            e for e in httpx.get(api, headers=console).json()["events"] if e["kind"] == "delivery_failed"
        ],
        what="the delivery_failed event",
    )
    assert "95018" in failed[0]["detail"]
    assert "补贴申请请联系工信局。" in failed[0]["detail"]
    assert failed[0]["actor"] == "wecom"
    detail = httpx.get(api, headers=console).json()
    transcript = [(m["role"], m["text"]) for m in detail["transcript"]]
    assert ("liaison", "补贴申请请联系工信局。") in transcript  # not lost: stored, and the failure is visible
    assert ("liaison", "您好，我是客服接待人员。") in transcript
    assert len(sent(wecom_server, user)) == before
    with Store(stack.env["DATABASE_URL"]).engine.connect() as con:
        row = (
            con.execute(
                outbound.select().where(
                    outbound.c.target == f"{OPEN_KFID}:{user}", outbound.c.text == "补贴申请请联系工信局。"
                )
            )
            .mappings()
            .one()
        )
    assert row["status"] == "failed"
    assert "95018" in row["last_error"]
    assert row["attempts"] == 1
    wait_for(
        lambda: [
            t
            for to, t in wecom_server.fake.sent_texts("user")
            if to == LIAISON[4] and f"工单#{esc['id']}（" in t and "未能送达" in t
        ],
        what="the liaison told",
    )


def test_kf_owner_bound_to_a_firm_from_the_console(
    stack: Stack, wecom_server: FakeWeComServer, console: dict[str, str]
) -> None:
    user = new_user()
    hand_off(stack, wecom_server, user)
    esc = case_of(stack, console, user)  # the department's shared queue: no firm known
    assert esc["liaison_username"] is None
    assert esc["firm_uscc"] is None
    url = f"{stack.gateway}/api/escalations/{esc['id']}/bind-firm"
    assert (
        httpx.post(url, json={"uscc": "123"}, headers=console).status_code == 400
    )  # not a valid 统一社会信用代码
    assert (
        httpx.post(url, json={"uscc": UNREGISTERED}, headers=console).status_code == 404
    )  # valid, but not a registered firm
    other = login(stack, OTHER[0], OTHER[1])
    assert httpx.post(url, json={"uscc": FIRM[0]}, headers=other).status_code == 404
    assert httpx.post(url, json={"uscc": FIRM[0]}).status_code == 401
    bound = httpx.post(url, json={"uscc": FIRM[0]}, headers=console)
    assert bound.status_code == 200
    assert (bound.json()["firm_uscc"], bound.json()["firm_name"]) == FIRM
    assert [e for e in bound.json()["events"] if e["kind"] == "firm_bound"][0]["actor"] == LIAISON[0]
    store = Store(stack.env["DATABASE_URL"])
    assert KfState(store).firm_of(user) == FIRM[0]
    assert (store.conversation(conversation(user)) or {})["firm_uscc"] == FIRM[0]
    httpx.post(f"{stack.gateway}/api/escalations/{esc['id']}/resolve", headers=console)
    says(stack, wecom_server, user, "转人工")  # the next case goes to the firm's liaison
    again = case_of(stack, console, user, other_than=esc["id"])
    assert again["liaison_username"] == LIAISON[0]


def test_kf_link_command(stack: Stack) -> None:
    done = stack.admin("kf-link", "--open-kfid", OPEN_KFID, "--scene", "portal")
    assert done.stdout.strip().startswith("https://work.weixin.qq.com/kf/kfc")
    assert "enc_scene=" in done.stdout
    refused = stack.admin("kf-link", "--open-kfid", "wkNoSuchAccount", check=False)
    assert refused.returncode == 2
    assert "95000" in refused.stderr
    unknown = stack.admin("bind-wecom-kf", "--external-userid", "wmX", "--uscc", UNREGISTERED, check=False)
    assert unknown.returncode == 2
    assert "not registered" in unknown.stderr


def test_kf_nothing_refused_for_size(stack: Stack, wecom_server: FakeWeComServer) -> None:
    """No 微信客服 send of this session so far was refused for its size or content; the test sends one
    answer of its own, so it checks something in whatever order the tests run."""
    user = new_user()
    says(stack, wecom_server, user, "专精特新企业增长30%有什么补贴")
    wait_for(lambda: sent(wecom_server, user), what="an answer")
    kf_sends = [
        c for c in wecom_server.fake.calls if c.path.endswith(("kf/send_msg", "kf/send_msg_on_event"))
    ]
    assert kf_sends
    assert not [c for c in kf_sends if c.errcode in (44004, 45002, 40008)]
