"""Faults injected into real processes: kill -9 or freeze Rasa, the action server and the gateway,
and lock the database; nothing is lost, nothing is answered twice, the owner is told the truth."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bench.stack import Stack, stack_env
from gateway.data.schema import messages
from gateway.data.store import Store
from gateway.data.wecom import KfState
from tests.conftest import KF_AES_KEY, KF_TOKEN, WECOM_AES_KEY, WECOM_TOKEN, wecom_env
from tests.fakes.wecom_api import (
    CORP_ID,
    FakeWeComServer,
    encrypted_callback,
    kf_event_xml,
    text_message_xml,
)
from tests.polling import wait_for
from tests.webchat import WebChat

BUSY = "系统繁忙"


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory, wecom_server: FakeWeComServer) -> Iterator[Stack]:
    """A stack of its own (SQLite store with a 1 s busy timeout), since these tests kill its parts."""
    from tests.conftest import _require_model

    _require_model()
    tmp: Path = tmp_path_factory.mktemp("faulty")
    env = stack_env(tmp, **wecom_env(wecom_server), DB_BUSY_TIMEOUT_S="1", RASA_TIMEOUT_S="8")
    with Stack(env=env, logs=tmp).running() as stack:
        yield stack


def user_texts(owner: WebChat) -> list[str]:
    return [m["text"] for m in owner.messages() if m["role"] == "user"]


def statuses(store: Store, sender_id: str) -> list[str]:
    """The processing status of each of the conversation's owner messages, in order."""
    with store.engine.connect() as con:
        rows = con.execute(
            sa.select(messages.c.status)
            .where(messages.c.sender_id == sender_id, messages.c.role == "user")
            .order_by(messages.c.id)
        ).scalars()
        return [str(r) for r in rows]


def before_first(texts: list[str], needle: str) -> list[str]:
    """The texts sent before the first one containing ``needle`` (a marker message's answer)."""
    return texts[: next(i for i, t in enumerate(texts) if needle in t)]


def health(stack: Stack) -> tuple[int, dict[str, Any]]:
    resp = httpx.get(f"{stack.gateway}/healthz", timeout=15)
    return resp.status_code, resp.json()["checks"]


def test_rasa_killed_owner_told_at_once_escalation_still_made(faulty: Stack) -> None:
    owner = WebChat(faulty.gateway)
    assert owner.send("专精特新企业增长30%有什么补贴")["replies"][0]["sources"]
    faulty.kill("rasa")
    started = time.monotonic()
    out = owner.send("股改资助最多多少")
    assert BUSY in out["replies"][0]["text"]
    assert time.monotonic() - started < 5
    status, checks = health(faulty)
    assert status == 503
    assert not checks["rasa"]["ok"]
    assert checks["actions"]["ok"]
    out = owner.send("请帮我转人工")
    assert out["handoff"]
    assert out["handoff"]["status"] == "open"
    users = user_texts(owner)
    assert users == ["专精特新企业增长30%有什么补贴", "股改资助最多多少", "请帮我转人工"]  # nothing lost
    faulty.start("rasa")
    faulty.wait("rasa")
    other = WebChat(faulty.gateway)
    assert other.send("新型学徒制培训有补贴吗")["replies"][0]["sources"]
    assert health(faulty)[0] == 200


def test_action_server_killed_then_restarted(faulty: Stack) -> None:
    faulty.kill("actions")
    owner = WebChat(faulty.gateway)
    out = owner.send("中行对专精特新有什么融资支持")
    assert BUSY in out["replies"][0]["text"]
    status, checks = health(faulty)
    assert status == 503
    assert not checks["actions"]["ok"]
    assert owner.send("我要找工作人员")["handoff"]["status"] == "open"
    faulty.start("actions")
    faulty.wait("actions")
    fresh = WebChat(faulty.gateway)
    assert fresh.send("中行对专精特新有什么融资支持")["replies"][0]["sources"]


def test_gateway_killed_mid_wecom_turn_answers_exactly_once(
    faulty: Stack, wecom_server: FakeWeComServer
) -> None:
    user = f"owner{uuid.uuid4().hex[:6]}"
    msg_id = int(time.time() * 1000)
    xml = text_message_xml(user, "揭榜制项目去年立项了几个", msg_id)
    rasa = faulty.procs["rasa"]
    rasa.send_signal(signal.SIGSTOP)  # the turn will hang inside Rasa ...
    try:
        params, body = encrypted_callback(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, xml)
        assert httpx.post(f"{faulty.gateway}/wecom/callback", params=params, content=body).status_code == 200
        # The worker has taken the message and is inside the turn (waiting for the frozen Rasa) ...
        store = Store(faulty.env["DATABASE_URL"])
        wait_for(lambda: statuses(store, f"wecom:{user}") == ["processing"], what="the turn under way")
        store.engine.dispose()
        faulty.kill("gateway")  # ... when the gateway dies
    finally:
        rasa.send_signal(signal.SIGCONT)
    faulty.start("gateway")
    faulty.wait("gateway")

    def answers() -> list[str]:
        return [t for to, t in wecom_server.fake.sent_texts("user") if to == user]

    wait_for(answers, timeout=40, what="the answer after the restart")
    params, body = encrypted_callback(
        WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, xml
    )  # WeCom's retry, after restart
    assert httpx.post(f"{faulty.gateway}/wecom/callback", params=params, content=body).status_code == 200
    # A marker from the same user after the retry: once it is answered, a second answer to the first
    # message would have been sent already (one worker, messages and sends in order).
    marker = text_message_xml(user, "股改资助最多多少", msg_id + 1)
    params, body = encrypted_callback(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID, marker)
    assert httpx.post(f"{faulty.gateway}/wecom/callback", params=params, content=body).status_code == 200
    texts = wait_for(
        lambda: any("200 万元" in t for t in answers()) and answers(), what="the marker's answer"
    )
    first = before_first(texts, "200 万元")
    assert len(first) == 1
    assert "二（二）" in first[0]
    users = [
        m["text"]
        for m in Store(faulty.env["DATABASE_URL"]).messages_after(f"wecom:{user}")
        if m["role"] == "user"
    ]
    assert users == ["揭榜制项目去年立项了几个", "股改资助最多多少"]


def test_gateway_killed_mid_kf_pull_resumes_from_its_cursor(
    faulty: Stack, wecom_server: FakeWeComServer
) -> None:
    kf = wecom_server.fake.kf
    open_kfid = kf.add_account()  # an account of its own: this stack's cursor starts at the beginning
    user = f"wm{uuid.uuid4().hex[:12]}"
    kf.customer_says(user, "揭榜制项目去年立项了几个", open_kfid=open_kfid)
    kf.customer_says(user, "股改资助最多多少", open_kfid=open_kfid)
    kf.page_size = 1  # one message per page: the pull stops between them ...
    wecom_server.fake.delay_next("kf/sync_msg", 20, skip=1)  # ... because WeCom is slow with the second page
    event = encrypted_callback(KF_TOKEN, KF_AES_KEY, CORP_ID, kf_event_xml(kf.new_msg_token(), open_kfid))
    try:
        assert (
            httpx.post(f"{faulty.gateway}/wecom/kf/callback", params=event[0], content=event[1]).status_code
            == 200
        )
        wait_for(lambda: kf.sent(user), timeout=40, what="the first message's answer")
        assert len(kf.sent(user)) == 1
        assert "二（二）" in kf.sent(user)[0]
        # The first page is stored and its cursor saved, and the request for the second page has reached
        # WeCom, which holds it (the fake has taken its delay): the pull is under way between pages.
        store = Store(faulty.env["DATABASE_URL"])
        wait_for(lambda: KfState(store).cursor(open_kfid).cursor, what="the first page's cursor")
        store.engine.dispose()
        wait_for(lambda: not wecom_server.fake._delays, what="the second page's request held by WeCom")
        users = [
            m["text"]
            for m in Store(faulty.env["DATABASE_URL"]).messages_after(f"wecomkf:{open_kfid}:{user}")
            if m["role"] == "user"
        ]
        assert users == ["揭榜制项目去年立项了几个"]  # the second page is still on its way
        faulty.kill("gateway")  # mid-pull: the first message stored and answered, the second page not read
        faulty.start("gateway")  # resumes with the stored cursor and the callback's Token (10 minutes)
        faulty.wait("gateway")
        wait_for(lambda: len(kf.sent(user)) >= 2, timeout=40, what="the second message's answer")
    finally:
        kf.page_size = 1000
    assert (
        httpx.post(f"{faulty.gateway}/wecom/kf/callback", params=event[0], content=event[1]).status_code
        == 200
    )  # WeCom's retry of the callback, after the restart: nothing new ...
    # ... as a marker the customer writes afterwards shows: once it is answered, anything the retry
    # pulled again would have been stored and answered before it.
    kf.customer_says(user, "新型学徒制培训有补贴吗", open_kfid=open_kfid)
    marker = encrypted_callback(KF_TOKEN, KF_AES_KEY, CORP_ID, kf_event_xml(kf.new_msg_token(), open_kfid))
    assert (
        httpx.post(f"{faulty.gateway}/wecom/kf/callback", params=marker[0], content=marker[1]).status_code
        == 200
    )
    texts = wait_for(lambda: any("四（四）" in t for t in kf.sent(user)) and kf.sent(user), what="marker")
    answers = before_first(texts, "四（四）")
    assert len(answers) == 2
    assert "二（二）" in answers[0]
    assert "200 万元" in answers[1]
    stored = Store(faulty.env["DATABASE_URL"]).messages_after(f"wecomkf:{open_kfid}:{user}")
    assert [m["text"] for m in stored if m["role"] == "user"] == [
        "揭榜制项目去年立项了几个",
        "股改资助最多多少",
        "新型学徒制培训有补贴吗",
    ]


def test_gateway_killed_open_escalations_survive(faulty: Stack) -> None:
    owner = WebChat(faulty.gateway)
    owner.send("技能等级认定怎么申请")
    esc = owner.send("转人工")["handoff"]
    faulty.kill("gateway")
    faulty.start("gateway")
    faulty.wait("gateway")
    held = owner.send("还在吗？")
    assert held["replies"] == []
    assert held["handoff"]["escalation_id"] == esc["escalation_id"]
    secret = {"X-Handoff-Secret": faulty.env["HANDOFF_SECRET"]}
    again = httpx.post(
        f"{faulty.gateway}/internal/handoff", json={"sender_id": owner.sender_id}, headers=secret
    ).json()
    assert again == {**again, "escalation_id": esc["escalation_id"], "created": False, "status": "open"}
    users = user_texts(owner)
    assert users == ["技能等级认定怎么申请", "转人工", "还在吗？"]


def test_database_locked_briefly_then_too_long(faulty: Stack) -> None:
    db = Path(faulty.env["DATABASE_URL"].removeprefix("sqlite:///"))
    owner = WebChat(faulty.gateway)

    def hold(seconds: float, ready: threading.Event) -> None:
        con = sqlite3.connect(db, timeout=30)
        con.execute("BEGIN EXCLUSIVE")
        ready.set()
        time.sleep(seconds)  # deliberate: the scenario is a lock held this long, not a wait for anything
        con.rollback()
        con.close()

    ready = threading.Event()
    locker = threading.Thread(target=hold, args=(0.6, ready))
    locker.start()
    ready.wait()
    out = owner.send("工业设计中心认定了多少家")  # waits past a lock shorter than the busy timeout
    locker.join()
    assert out["replies"][0]["sources"]
    ready = threading.Event()
    locker = threading.Thread(target=hold, args=(20.0, ready))
    locker.start()
    ready.wait()
    started = time.monotonic()
    resp = owner.post("质量奖")
    elapsed = time.monotonic() - started
    locker.join()
    assert resp.status_code == 503
    assert "storage" in resp.json()["detail"]
    assert elapsed < 15
    users = user_texts(owner)
    assert users == ["工业设计中心认定了多少家"]  # the refused message was not half-written
    assert owner.send("质量奖有多少企业获评")["replies"]
