"""The WeCom fake answers wechatpy's enterprise client as WeCom does, and the callback builders
produce requests wechatpy's crypto accepts."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from wechatpy.enterprise import WeChatClient, parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import APILimitedException, WeChatClientException

from tests.fakes.wecom_api import (
    AGENT_ID,
    CORP_ID,
    CORP_SECRET,
    KF_SECRET,
    OPEN_KFID,
    SERVICER,
    WEBHOOK_KEY,
    FakeWeCom,
    FakeWeComServer,
    aibot_callback,
    encrypted_callback,
    kf_event_xml,
    text_message_xml,
    verify_url_params,
)

TOKEN = "callbacktoken123"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


class FakeHostClient(WeChatClient):
    """wechatpy's enterprise client with its API host pointed at the fake."""

    def __init__(self, base: str, corp_id: str = CORP_ID, secret: str = CORP_SECRET) -> None:
        super().__init__(corp_id, secret, timeout=5)
        self.API_BASE_URL = base + "/"

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )


@pytest.fixture(scope="module")
def server() -> Iterator[FakeWeComServer]:
    with FakeWeComServer() as running:
        yield running


@pytest.fixture
def fake(server: FakeWeComServer) -> FakeWeCom:
    server.fake.reset()
    return server.fake


@pytest.fixture
def client(server: FakeWeComServer) -> Iterator[FakeHostClient]:
    server.fake.reset()
    wechat = FakeHostClient(server.base)
    yield wechat
    wechat._http.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as session:
        yield session


def hand_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """WeCom's documented msg_signature: sha1 of the four strings sorted and concatenated."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


# -- outbound: token and app messages ---------------------------------------------------------------


def test_send_text_arrives(client: FakeHostClient, fake: FakeWeCom) -> None:
    result = client.message.send_text(AGENT_ID, "u1", "你好")
    assert result["errcode"] == 0
    assert result["invaliduser"] == ""
    assert result["msgid"]
    assert fake.sent_texts("user") == [("u1", "你好")]
    assert fake.token_fetches() == 1
    send = fake.calls[-1]
    assert (send.method, send.path, send.dropped, send.status) == (
        "POST",
        "/cgi-bin/message/send",
        False,
        200,
    )
    assert send.json["text"] == {"content": "你好"}
    assert send.json["agentid"] == AGENT_ID
    assert send.params["access_token"] == fake.calls[0].response["access_token"]


def test_send_to_several_users(client: FakeHostClient, fake: FakeWeCom) -> None:
    client.message.send_text(AGENT_ID, ["u1", "u2"], "通知")
    assert fake.sent_texts("user") == [("u1", "通知"), ("u2", "通知")]


def test_token_is_reused_then_refetched_after_expiry(client: FakeHostClient, fake: FakeWeCom) -> None:
    client.message.send_text(AGENT_ID, "u1", "一")
    client.message.send_text(AGENT_ID, "u1", "二")
    assert fake.token_fetches() == 1
    fake.expire_tokens()
    client.message.send_text(AGENT_ID, "u1", "三")
    assert fake.token_fetches() == 2
    assert fake.sent_texts("user") == [("u1", "一"), ("u1", "二"), ("u1", "三")]
    assert [c.errcode for c in fake.calls if c.path.endswith("message/send")] == [0, 0, 42001, 0]


def test_bad_tokens_are_refused(server: FakeWeComServer, fake: FakeWeCom, http: httpx.Client) -> None:
    body = {"touser": "u1", "msgtype": "text", "agentid": AGENT_ID, "text": {"content": "x"}}
    unknown = http.post(f"{server.base}/message/send", params={"access_token": "nope"}, json=body)
    missing = http.post(f"{server.base}/message/send", json=body)
    assert unknown.json() == {"errcode": 40014, "errmsg": "invalid access_token"}
    assert missing.json()["errcode"] == 41001
    assert fake.sent_texts("user") == []


def test_gettoken_checks_corpid_and_secret(
    server: FakeWeComServer, fake: FakeWeCom, http: httpx.Client
) -> None:
    url = f"{server.base}/gettoken"
    assert http.get(url, params={"corpid": "other", "corpsecret": CORP_SECRET}).json()["errcode"] == 40013
    assert http.get(url, params={"corpid": CORP_ID, "corpsecret": "wrong"}).json()["errcode"] == 40001
    good = http.get(url, params={"corpid": CORP_ID, "corpsecret": CORP_SECRET}).json()
    assert good["errcode"] == 0
    assert good["expires_in"] == 7200
    assert good["access_token"]
    assert fake.token_fetches() == 1
    wrong = FakeHostClient(server.base, secret="wrong")
    with pytest.raises(WeChatClientException) as raised:
        wrong.message.send_text(AGENT_ID, "u1", "x")
    wrong._http.close()
    assert raised.value.errcode == 40001


def test_text_over_2048_bytes_is_rejected(client: FakeHostClient, fake: FakeWeCom) -> None:
    exactly = "你" * 682 + "ab"  # 2046 + 2 bytes
    client.message.send_text(AGENT_ID, "u1", exactly)
    with pytest.raises(WeChatClientException) as raised:
        client.message.send_text(AGENT_ID, "u1", exactly + "c")
    assert raised.value.errcode == 45002
    assert fake.sent_texts("user") == [("u1", exactly)]
    assert fake.calls[-1].errcode == 45002
    assert not fake.calls[-1].dropped


def test_wrong_agent_and_empty_content_are_rejected(client: FakeHostClient) -> None:
    with pytest.raises(WeChatClientException) as wrong_agent:
        client.message.send_text(1, "u1", "x")
    with pytest.raises(WeChatClientException) as empty:
        client.message.send_text(AGENT_ID, "u1", "")
    assert (wrong_agent.value.errcode, empty.value.errcode) == (40056, 44004)


def test_31st_message_to_a_user_in_a_minute_is_dropped_silently() -> None:
    clock = Clock()
    with FakeWeComServer(FakeWeCom(clock=clock)) as server:
        wechat = FakeHostClient(server.base)
        try:
            for i in range(31):
                assert (
                    wechat.message.send_text(AGENT_ID, "u1|u2" if i == 30 else "u1", f"m{i}")["errcode"] == 0
                )
            clock.now += 61
            wechat.message.send_text(AGENT_ID, "u1", "next minute")
        finally:
            wechat._http.close()
        fake = server.fake
    sends = [c for c in fake.calls if c.path.endswith("message/send")]
    assert [c.dropped for c in sends] == [False] * 30 + [True, False]
    assert sends[30].dropped_targets == ("u1",)
    delivered = fake.sent_texts("user")
    assert ("u1", "m30") not in delivered
    assert ("u2", "m30") in delivered
    assert delivered[-1] == ("u1", "next minute")
    assert len(delivered) == 32


def test_1001st_message_to_a_user_in_an_hour_is_dropped() -> None:
    clock = Clock()
    with FakeWeComServer(FakeWeCom(clock=clock)) as server, httpx.Client(timeout=5) as http:
        token = http.get(
            f"{server.base}/gettoken", params={"corpid": CORP_ID, "corpsecret": CORP_SECRET}
        ).json()["access_token"]
        for i in range(1001):
            if i and i % 30 == 0:
                clock.now += 61
            body = {"touser": "u1", "msgtype": "text", "agentid": AGENT_ID, "text": {"content": str(i)}}
            http.post(f"{server.base}/message/send", params={"access_token": token}, json=body)
        fake = server.fake
    assert clock.now - fake.calls[1].time < 3600
    assert [c.dropped for c in fake.calls[1:]] == [False] * 1000 + [True]


# -- outbound: app chats, webhooks, aibot replies ---------------------------------------------------


def test_appchat_send_and_its_rate_limit(client: FakeHostClient, fake: FakeWeCom) -> None:
    for i in range(21):
        assert client.appchat.send_text("chat1", f"c{i}")["errcode"] == 0
    assert fake.sent_texts("chat") == [("chat1", f"c{i}") for i in range(20)]
    assert fake.calls[-1].dropped


def test_webhook_good_and_bad_key(server: FakeWeComServer, fake: FakeWeCom, http: httpx.Client) -> None:
    good = http.post(fake.webhook_url(), json={"msgtype": "text", "text": {"content": "工单 1"}})
    markdown = http.post(
        f"{server.base}/webhook/send",
        params={"key": WEBHOOK_KEY},
        json={"msgtype": "markdown", "markdown": {"content": "**工单 2**"}},
    )
    bad = http.post(f"{server.base}/webhook/send", params={"key": "nope"}, json={"msgtype": "text"})
    assert good.json() == {"errcode": 0, "errmsg": "ok"}
    assert markdown.json()["errcode"] == 0
    assert bad.json() == {"errcode": 93000, "errmsg": "invalid webhook url"}
    assert fake.sent_texts("webhook") == [(WEBHOOK_KEY, "工单 1"), (WEBHOOK_KEY, "**工单 2**")]
    assert fake.token_fetches() == 0


def test_webhook_rate_limit(fake: FakeWeCom, http: httpx.Client) -> None:
    for i in range(21):
        assert (
            http.post(fake.webhook_url(), json={"msgtype": "text", "text": {"content": str(i)}}).json()[
                "errcode"
            ]
            == 0
        )
    assert len(fake.sent_texts("webhook")) == 20
    assert fake.calls[-1].dropped


def test_aibot_response_code_is_single_use(fake: FakeWeCom, http: httpx.Client) -> None:
    url = fake.new_response_url("code1")
    assert url.endswith("/cgi-bin/aibot/response?response_code=code1")
    reply = {"msgtype": "markdown", "markdown": {"content": "**您好**"}}
    assert http.post(url, json=reply).json() == {"errcode": 0, "errmsg": "ok"}
    again = http.post(url, json=reply).json()
    assert again == {"errcode": 40058, "errmsg": "response_code used"}
    unknown = http.post(url.replace("code1", "never-issued"), json=reply).json()
    assert unknown["errcode"] == 40058
    assert fake.sent_texts("aibot") == [("code1", "**您好**")]


# -- programmable failures --------------------------------------------------------------------------


def test_fail_next(client: FakeHostClient, fake: FakeWeCom) -> None:
    fake.fail_next("message/send", 45009)
    with pytest.raises(APILimitedException):
        client.message.send_text(AGENT_ID, "u1", "a")
    fake.fail_next("message/send", 500)
    with pytest.raises(WeChatClientException) as http_error:
        client.message.send_text(AGENT_ID, "u1", "b")
    assert http_error.value.response.status_code == 500
    fake.fail_next("message/send", 42001, times=2)  # wechatpy refetches the token after each
    client.message.send_text(AGENT_ID, "u1", "c")
    assert fake.sent_texts("user") == [("u1", "c")]
    assert fake.token_fetches() == 3
    with pytest.raises(ValueError, match="sned"):
        fake.fail_next("message/sned", 42001)


# -- inbound callbacks ------------------------------------------------------------------------------


def test_encrypted_callback_round_trips_through_wechatpy() -> None:
    xml = text_message_xml("zhangsan", "申报条件是什么？]]>", 1234567890123456, create_time=1_700_000_000)
    params, body = encrypted_callback(TOKEN, AES_KEY, CORP_ID, xml, timestamp=1_700_000_001, nonce="98765")
    assert (params["timestamp"], params["nonce"]) == ("1700000001", "98765")
    outer = ElementTree.fromstring(body)
    assert [child.tag for child in outer] == ["ToUserName", "AgentID", "Encrypt"]
    assert outer.findtext("ToUserName") == CORP_ID
    assert outer.findtext("AgentID") == str(AGENT_ID)
    assert params["msg_signature"] == hand_signature(
        TOKEN, params["timestamp"], params["nonce"], outer.findtext("Encrypt", "")
    )
    plain = WeChatCrypto(TOKEN, AES_KEY, CORP_ID).decrypt_message(
        body, params["msg_signature"], params["timestamp"], params["nonce"]
    )
    assert plain == xml
    message = parse_message(plain)
    assert (message.type, message.source, message.content) == ("text", "zhangsan", "申报条件是什么？]]>")
    assert (message.agent, message.id, message.target) == (AGENT_ID, 1234567890123456, CORP_ID)


def test_text_message_xml_with_chat_id() -> None:
    xml = text_message_xml("lisi", "你好", "42", chat_id="wrkSFfCgAAxxxx")
    root = ElementTree.fromstring(xml)
    assert root.findtext("ChatId") == "wrkSFfCgAAxxxx"
    assert root.findtext("MsgType") == "text"
    assert "ChatId" not in text_message_xml("lisi", "你好", "42")


def test_verify_url_params_pass_wechatpy_check_signature() -> None:
    params = verify_url_params(TOKEN, AES_KEY, CORP_ID, "echo-12345")
    assert set(params) == {"msg_signature", "timestamp", "nonce", "echostr"}
    assert params["msg_signature"] == hand_signature(
        TOKEN, params["timestamp"], params["nonce"], params["echostr"]
    )
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    assert crypto.check_signature(
        params["msg_signature"], params["timestamp"], params["nonce"], params["echostr"]
    ) == ("echo-12345")


def test_aibot_callback_round_trips_with_empty_receiveid() -> None:
    payload = {
        "msgid": "m1",
        "chattype": "single",
        "from": {"userid": "wangwu"},
        "msgtype": "text",
        "text": {"content": "有哪些补贴"},
    }
    params, body = aibot_callback(TOKEN, AES_KEY, payload, timestamp=1_700_000_000, nonce="1")
    encrypt = json.loads(body)["encrypt"]
    assert params["msg_signature"] == hand_signature(TOKEN, "1700000000", "1", encrypt)
    plain = WeChatCrypto(TOKEN, AES_KEY, "").decrypt_message(
        {"Encrypt": encrypt}, params["msg_signature"], params["timestamp"], params["nonce"]
    )
    assert json.loads(plain) == payload


def test_server_stops_on_exit() -> None:
    with FakeWeComServer() as server:
        base = server.base
        assert (
            httpx.get(f"{base}/gettoken", params={"corpid": CORP_ID, "corpsecret": CORP_SECRET}).json()[
                "errcode"
            ]
            == 0
        )
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/gettoken", timeout=2)


# -- 微信客服 (kf/*) --------------------------------------------------------------------------------


class KfApi:
    """Raw calls to the fake's kf/* endpoints with a token of the kf app."""

    def __init__(self, server: FakeWeComServer, http: httpx.Client, secret: str = KF_SECRET) -> None:
        self.server, self.http = server, http
        self.token = http.get(
            f"{server.base}/gettoken", params={"corpid": CORP_ID, "corpsecret": secret}
        ).json()["access_token"]

    def __call__(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.http.post(f"{self.server.base}/{path}", params={"access_token": self.token}, json=body)
        assert resp.status_code == 200
        return dict(resp.json())

    def send(self, user: str, text: str, open_kfid: str = OPEN_KFID) -> int:
        body = {"touser": user, "open_kfid": open_kfid, "msgtype": "text", "text": {"content": text}}
        return int(self("kf/send_msg", body)["errcode"])


def serve_with_clock() -> tuple[FakeWeComServer, Clock]:
    clock = Clock()
    return FakeWeComServer(FakeWeCom(clock=clock)), clock


def test_kf_sync_msg_pages_with_cursors_and_has_more(
    server: FakeWeComServer, fake: FakeWeCom, http: httpx.Client
) -> None:
    kf = KfApi(server, http)
    ids = [fake.kf.customer_says("wmUser1", f"问题{i}") for i in range(5)]
    fake.kf.page_size = 2  # WeCom may return fewer than `limit`: has_more says there is more
    token, cursor, pages = fake.kf.new_msg_token(), "", []
    while True:
        page = kf("kf/sync_msg", {"cursor": cursor, "token": token, "limit": 1000, "open_kfid": OPEN_KFID})
        assert page["errcode"] == 0
        pages.append([m["msgid"] for m in page["msg_list"]])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert pages == [ids[:2], ids[2:4], ids[4:]]
    first = kf("kf/sync_msg", {"token": token, "open_kfid": OPEN_KFID})["msg_list"][0]
    assert first == {
        "msgid": ids[0],
        "open_kfid": OPEN_KFID,
        "external_userid": "wmUser1",
        "send_time": first["send_time"],
        "origin": 3,
        "msgtype": "text",
        "text": {"content": "问题0"},
    }
    done = kf("kf/sync_msg", {"cursor": cursor, "token": token, "open_kfid": OPEN_KFID})
    assert (done["msg_list"], done["has_more"]) == ([], 0)
    later = fake.kf.customer_says("wmUser1", "又一个问题")
    assert [
        m["msgid"] for m in kf("kf/sync_msg", {"cursor": done["next_cursor"], "token": token})["msg_list"]
    ] == [later]
    other = fake.kf.add_account()
    fake.kf.customer_says("wmUser2", "别的账号", open_kfid=other)
    assert (
        kf("kf/sync_msg", {"cursor": done["next_cursor"], "token": token, "open_kfid": OPEN_KFID})[
            "msg_list"
        ][0]["msgid"]
        == later
    )
    assert (
        kf(
            "kf/send_msg",
            {"touser": "wmUser1", "open_kfid": OPEN_KFID, "msgtype": "text", "text": {"content": "答复"}},
        )["errcode"]
        == 0
    )
    api_sent = kf("kf/sync_msg", {"cursor": done["next_cursor"], "token": token, "open_kfid": OPEN_KFID})
    assert len(api_sent["msg_list"]) == 1  # messages sent through the API are never read back


def test_kf_sync_msg_reads_three_days_tokens_expire_and_bad_input_is_refused() -> None:
    server, clock = serve_with_clock()
    with server, httpx.Client(timeout=5) as http:
        kf, fake = KfApi(server, http), server.fake
        fake.kf.customer_says("wmOld", "三天前的问题", at=clock.now - 3 * 86400 - 1)
        fresh = fake.kf.customer_says("wmNew", "今天的问题")
        token = fake.kf.new_msg_token()
        assert [m["msgid"] for m in kf("kf/sync_msg", {"token": token})["msg_list"]] == [fresh]
        assert kf("kf/sync_msg", {})["errcode"] == 0  # no token: allowed (WeCom limits such calls strictly)
        assert kf("kf/sync_msg", {"token": "ENCforged"}) == {"errcode": 95007, "errmsg": "invalid msg token"}
        clock.now += 601
        assert kf("kf/sync_msg", {"token": token})["errcode"] == 95007  # a callback's Token lasts 10 minutes
        token = fake.kf.new_msg_token()
        assert kf("kf/sync_msg", {"token": token, "cursor": "made-up"})["errcode"] == 40058
        assert kf("kf/sync_msg", {"token": token, "limit": 1001})["errcode"] == 40058
        assert kf("kf/sync_msg", {"token": token, "open_kfid": "wkNoSuchAccount"})["errcode"] == 95000
        app = KfApi(server, http, secret=CORP_SECRET)  # an app not allowed to call kf/*
        assert app("kf/sync_msg", {"token": token})["errcode"] == 48002


def test_kf_send_msg_only_while_the_bot_holds_the_session_and_five_per_message() -> None:
    server, clock = serve_with_clock()
    with server, httpx.Client(timeout=5) as http:
        kf, fake = KfApi(server, http), server.fake
        assert kf.send("wmA", "没说过话的客户") == 95018  # state 4: no session yet
        fake.kf.customer_says("wmA", "你好")
        assert fake.kf.state("wmA") == (0, "")
        assert [kf.send("wmA", f"答复{i}") for i in range(6)] == [0] * 5 + [95001]
        assert fake.kf.state("wmA") == (1, "")
        fake.kf.customer_says("wmA", "还有一个问题")  # a new message of the customer renews the quota
        assert kf.send("wmA", "答复6") == 0
        fake.kf.set_state("wmA", 3, SERVICER)  # a 接待人员 took the session in the WeCom client
        assert kf(
            "kf/send_msg",
            {"touser": "wmA", "open_kfid": OPEN_KFID, "msgtype": "text", "text": {"content": "机器人插话"}},
        ) == {"errcode": 95018, "errmsg": "send msg session status invalid"}
        fake.kf.set_state("wmA", 1)
        clock.now += 48 * 3600 + 1  # 48 h after the customer's last message the session is over
        assert kf.send("wmA", "太晚了") == 95018
        assert fake.kf.state("wmA") == (4, "")
        fake.kf.customer_says("wmA", "我又来了")
        assert kf.send("wmA", "欢迎回来") == 0
        assert kf.send("wmA", "") == 44004
        assert kf.send("wmA", "长" * 683) == 45002
        assert kf.send("wmA", "x", open_kfid="wkNoSuchAccount") == 95000
        assert fake.kf.sent("wmA") == [f"答复{i}" for i in range(5)] + ["答复6", "欢迎回来"]
        assert fake.sent_texts("kf")[-1] == ("wmA", "欢迎回来")
        message = {"touser": "wmA", "msgtype": "text", "agentid": AGENT_ID, "text": {"content": "x"}}
        assert (
            http.post(f"{server.base}/message/send", params={"access_token": kf.token}, json=message).json()[
                "errcode"
            ]
            == 48002
        )  # the kf app's token is not the app's


def test_kf_welcome_code_is_single_use_within_20_seconds() -> None:
    server, clock = serve_with_clock()
    with server, httpx.Client(timeout=5) as http:
        kf, fake = KfApi(server, http), server.fake
        code = fake.kf.enter_session("wmB", scene="portal")
        assert code
        event = kf("kf/sync_msg", {"token": fake.kf.new_msg_token()})["msg_list"][0]
        assert event["origin"] == 4
        assert event["msgtype"] == "event"
        assert "external_userid" not in event
        assert event["event"] == {
            "event_type": "enter_session",
            "open_kfid": OPEN_KFID,
            "external_userid": "wmB",
            "scene": "portal",
            "scene_param": "",
            "welcome_code": code,
        }
        welcome = {"code": code, "msgtype": "text", "text": {"content": "您好，我是惠企通"}}
        assert kf("kf/send_msg_on_event", welcome)["errcode"] == 0
        assert kf("kf/send_msg_on_event", welcome)["errcode"] == 40058  # once only
        assert fake.kf.enter_session("wmB") is None  # welcomed within 48 h: no new code
        late = fake.kf.enter_session("wmC")
        clock.now += 21
        assert kf("kf/send_msg_on_event", {**welcome, "code": late})["errcode"] == 40058
        assert fake.kf.sent() == ["您好，我是惠企通"]


def test_kf_service_state_get_and_trans_follow_the_documented_transitions(
    server: FakeWeComServer, fake: FakeWeCom, http: httpx.Client
) -> None:
    kf = KfApi(server, http)
    fake.kf.customer_says("wmD", "转人工")
    ids = {"open_kfid": OPEN_KFID, "external_userid": "wmD"}
    assert kf("kf/service_state/get", ids) == {
        "errcode": 0,
        "errmsg": "ok",
        "service_state": 0,
        "servicer_userid": "",
    }
    assert (
        kf("kf/service_state/trans", {**ids, "service_state": 3, "servicer_userid": "not.a.servicer"})[
            "errcode"
        ]
        == 95014
    )
    moved = kf("kf/service_state/trans", {**ids, "service_state": 3, "servicer_userid": SERVICER})
    assert moved["errcode"] == 0
    assert moved["msg_code"]
    assert kf("kf/service_state/get", ids)["servicer_userid"] == SERVICER
    assert (
        kf("kf/service_state/trans", {**ids, "service_state": 1})["errcode"] == 95016
    )  # no way back to the bot
    assert kf.send("wmD", "机器人") == 95018
    assert kf("kf/service_state/trans", {**ids, "service_state": 4})["errcode"] == 0
    assert kf("kf/service_state/trans", {**ids, "service_state": 1})["errcode"] == 95016
    fake.kf.customer_says("wmD", "再问一个")
    assert kf("kf/service_state/get", ids)["service_state"] == 0
    assert kf("kf/service_state/get", {**ids, "open_kfid": "wkNoSuchAccount"})["errcode"] == 95000


@pytest.mark.usefixtures("fake")
def test_kf_add_contact_way(server: FakeWeComServer, http: httpx.Client) -> None:
    kf = KfApi(server, http)
    plain = kf("kf/add_contact_way", {"open_kfid": OPEN_KFID})
    assert plain["errcode"] == 0
    assert plain["url"].startswith("https://work.weixin.qq.com/kf/kfc")
    scened = kf("kf/add_contact_way", {"open_kfid": OPEN_KFID, "scene": "portal_1"})
    assert scened["url"].startswith(plain["url"] + "?enc_scene=ENC")
    assert kf("kf/add_contact_way", {"open_kfid": OPEN_KFID, "scene": "门户"})["errcode"] == 40058
    assert kf("kf/add_contact_way", {"open_kfid": "wkNoSuchAccount"})["errcode"] == 95000


def test_kf_failures_and_delays_can_be_programmed(
    server: FakeWeComServer, fake: FakeWeCom, http: httpx.Client
) -> None:
    kf = KfApi(server, http)
    fake.kf.customer_says("wmE", "你好")
    fake.fail_next("kf/send_msg", 95018)
    assert kf.send("wmE", "a") == 95018
    assert kf.send("wmE", "b") == 0
    fake.delay_next("kf/sync_msg", 0.5, skip=1)
    started = time.monotonic()
    assert kf("kf/sync_msg", {})["errcode"] == 0  # let through
    assert time.monotonic() - started < 0.5
    assert kf("kf/sync_msg", {})["errcode"] == 0  # held
    assert time.monotonic() - started >= 0.5
    with pytest.raises(ValueError, match="kf/nothing"):
        fake.delay_next("kf/nothing", 1)


def test_kf_event_callback_round_trips_through_wechatpy() -> None:
    xml = kf_event_xml("ENCtoken123", create_time=1_700_000_000)
    params, body = encrypted_callback(TOKEN, AES_KEY, CORP_ID, xml)
    plain = WeChatCrypto(TOKEN, AES_KEY, CORP_ID).decrypt_message(
        body, params["msg_signature"], params["timestamp"], params["nonce"]
    )
    root = ElementTree.fromstring(plain)
    assert [root.findtext(tag) for tag in ("MsgType", "Event", "Token", "OpenKfId", "ToUserName")] == [
        "event",
        "kf_msg_or_event",
        "ENCtoken123",
        OPEN_KFID,
        CORP_ID,
    ]
    assert ElementTree.fromstring(body).find("AgentID") is None
