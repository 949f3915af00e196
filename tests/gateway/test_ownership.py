"""Conversations belong to their owner: the conversation secret, channel ids refused on the web API,
清除记录, the audit log of staff access and the admin role, against the real stack. Each attack an
outsider would try is one assertion here."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bench.stack import Stack
from gateway.data.store import Store
from gateway.main import create_app
from huiqitong.settings import Settings
from tests.webchat import WebChat

ADMIN = ("o_admin", "o-admin-password", "管理员", "市工业和信息化局")
LIAISON = ("o_gxj", "o-gxj-password", "钟工信", "市工业和信息化局")
QUESTION = "专精特新企业增长30%有什么补贴"


@pytest.fixture(scope="module")
def staff(stack: Stack) -> dict[str, dict[str, str]]:
    headers = {}
    for (username, password, name, department), role in ((ADMIN, "admin"), (LIAISON, "liaison")):
        stack.add_liaison(username, password, name, department, role=role)
        resp = httpx.post(
            f"{stack.gateway}/api/liaison/login", json={"username": username, "password": password}
        )
        assert resp.status_code == 200
        assert resp.json()["liaison"]["role"] == role
        headers[username] = {"Authorization": f"Bearer {resp.json()['token']}"}
    return headers


def test_the_first_message_issues_an_id_a_secret_and_an_httponly_cookie(stack: Stack) -> None:
    resp = httpx.post(f"{stack.gateway}/api/chat", json={"text": QUESTION}, timeout=60)
    out = resp.json()
    sender, token = out["sender_id"], out["conversation_token"]
    assert sender.startswith("web-")
    assert len(sender) >= 24
    assert len(token) >= 40
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"hqt_{sender}={token};")
    assert "HttpOnly" in cookie
    assert "Path=/api" in cookie
    assert "SameSite=lax" in cookie
    # The cookie alone proves ownership (EventSource cannot send headers) ...
    with httpx.Client(base_url=stack.gateway, cookies={f"hqt_{sender}": token}, timeout=60) as browser:
        assert [m["role"] for m in browser.get(f"/api/conversations/{sender}/messages").json()] == [
            "user",
            "bot",
        ]
        later = browser.post("/api/chat", json={"sender_id": sender, "text": "股改资助最多多少"}).json()
        assert later["sender_id"] == sender
        assert later["conversation_token"] is None
    # ... and so does the header.
    owner = WebChat(stack.gateway)
    owner.sender_id, owner.token = sender, token
    assert len(owner.messages()) == 4


def test_without_the_secret_nothing_is_read_streamed_written_or_cleared(stack: Stack) -> None:
    owner = WebChat(stack.gateway)
    owner.send(QUESTION)
    base = f"{stack.gateway}/api/conversations/{owner.sender_id}"
    assert owner.token is not None
    for headers, status in (
        ({}, 401),
        ({"X-Conversation-Token": "guessed"}, 403),
        ({"X-Conversation-Token": owner.token[:-1] + "x"}, 403),
    ):
        assert httpx.get(f"{base}/messages", headers=headers).status_code == status
        assert httpx.get(f"{base}/stream", headers=headers).status_code == status
        assert httpx.delete(base, headers=headers).status_code == status
        write = httpx.post(
            f"{stack.gateway}/api/chat",
            json={"sender_id": owner.sender_id, "text": "冒充车主"},
            headers=headers,
            timeout=60,
        )
        assert write.status_code == status
    # Another owner's valid secret is not this conversation's.
    other = WebChat(stack.gateway)
    other.send("你好")
    assert httpx.get(f"{base}/messages", headers=other.headers).status_code == 403
    assert (
        httpx.get(f"{base}/messages", cookies={f"hqt_{other.sender_id}": str(other.token)}).status_code == 401
    )
    assert [m["text"] for m in owner.messages() if m["role"] == "user"] == [QUESTION]  # nothing was stored


@pytest.mark.parametrize(
    "sender",
    [
        "wecom:zhangsan",
        "wecom:wrOgQhDgAAcwMTB7YmDkbeBsgT_KAAAA",
        "wecomkf:wkAJ2GCAAA:wmAJ2GCAAA",
        "purged:test",
        "future:anyone",
    ],
)
def test_ids_of_other_channels_are_refused_on_the_web_api(stack: Stack, sender: str) -> None:
    store = Store(stack.env["DATABASE_URL"])
    # Already answered in its channel (a stored, unprocessed one would be picked up by the WeCom worker).
    store.add_message(sender, "user", "渠道内的消息", channel="wecom-user", status="processed")
    base = f"{stack.gateway}/api/conversations/{sender}"
    for resp in (
        httpx.get(f"{base}/messages"),
        httpx.get(f"{base}/stream"),
        httpx.delete(base),
        httpx.post(f"{stack.gateway}/api/chat", json={"sender_id": sender, "text": "冒充"}, timeout=60),
    ):
        assert resp.status_code == 400, resp.text
        assert "not served by the web API" in resp.json()["detail"]
    assert [m["text"] for m in store.messages_after(sender)] == ["渠道内的消息"]


def test_an_unknown_or_expired_id_starts_a_new_conversation(stack: Stack) -> None:
    resp = httpx.post(
        f"{stack.gateway}/api/chat", json={"sender_id": "web-NoSuchConversation", "text": "你好"}, timeout=60
    )
    assert resp.status_code == 200
    assert resp.json()["sender_id"] != "web-NoSuchConversation"
    assert resp.json()["conversation_token"]
    assert httpx.get(f"{stack.gateway}/api/conversations/web-NoSuchConversation/messages").status_code == 404


def test_clearing_deletes_the_conversation_withdraws_the_case_and_ends_the_secret(
    stack: Stack, staff: dict[str, dict[str, str]]
) -> None:
    owner = WebChat(stack.gateway)
    owner.send("我姓陈，电话13912345678，数字化转型贷款贴息怎么申请")
    esc_id = owner.send("转人工")["handoff"]["escalation_id"]
    sender, token = owner.sender_id, owner.token
    resp = httpx.delete(f"{stack.gateway}/api/conversations/{sender}", headers=owner.headers)
    assert resp.status_code == 200
    assert resp.json() == {"cleared": True, "messages_deleted": 4}
    assert f'hqt_{sender}=""' in resp.headers["set-cookie"] or "Max-Age=0" in resp.headers["set-cookie"]
    assert (
        httpx.get(f"{stack.gateway}/api/conversations/{sender}/messages", headers=owner.headers).status_code
        == 404
    )
    again = httpx.post(
        f"{stack.gateway}/api/chat",
        json={"sender_id": sender, "text": "你好"},
        headers={"X-Conversation-Token": str(token)},
        timeout=60,
    ).json()
    assert again["sender_id"] != sender  # the old secret opens nothing
    case = httpx.get(f"{stack.gateway}/api/escalations/{esc_id}", headers=staff[LIAISON[0]])
    if case.status_code == 200:  # visible to the department's queue: withdrawn and stripped
        assert case.json()["status"] == "resolved"
        assert case.json()["question"] == ""
        assert "13912345678" not in case.text
        assert case.json()["transcript"] == []
    tracker = httpx.get(
        f"{stack.rasa}/conversations/{sender}/tracker", params={"token": stack.env["RASA_TOKEN"]}
    )
    assert "13912345678" not in tracker.text  # Rasa's copy is emptied too


def test_new_conversations_are_limited_per_address(stack: Stack, tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        rasa_port=int(stack.env["RASA_PORT"]),
        rasa_token=stack.env["RASA_TOKEN"],
        new_conversations_per_minute=3,
    )
    with TestClient(create_app(settings)) as client:
        firsts = [client.post("/api/chat", json={"text": "你好"}) for _ in range(4)]
        assert [r.status_code for r in firsts] == [200, 200, 200, 429]
        assert "new conversations" in firsts[3].json()["detail"]
        mine = firsts[0].json()
        follow = client.post(
            "/api/chat",
            json={"sender_id": mine["sender_id"], "text": "专精特新有什么补贴"},
            headers={"X-Conversation-Token": mine["conversation_token"]},
        )
        assert follow.status_code == 200  # an existing conversation goes on


def test_staff_access_is_audited_and_only_admins_read_it(
    stack: Stack, staff: dict[str, dict[str, str]]
) -> None:
    owner = WebChat(stack.gateway)
    owner.send("技术改造项目怎么申报")
    esc_id = owner.send("转人工")["handoff"]["escalation_id"]
    liaison = staff[LIAISON[0]]
    base = f"{stack.gateway}/api/escalations/{esc_id}"
    assert httpx.get(base, headers=liaison).status_code == 200
    assert (
        httpx.post(f"{base}/reply", json={"text": "您好，请提供项目投资额。"}, headers=liaison).status_code
        == 200
    )
    assert httpx.post(f"{base}/resolve", headers=liaison).status_code == 200
    assert httpx.get(f"{stack.gateway}/api/escalations.csv", headers=liaison).status_code == 200
    assert (
        httpx.post(
            f"{stack.gateway}/api/liaison/login", json={"username": LIAISON[0], "password": "wrong"}
        ).status_code
        == 401
    )

    for path in ("/api/admin/audit", "/api/admin/audit.csv"):
        assert (
            httpx.get(f"{stack.gateway}{path}", headers=liaison).status_code == 403
        )  # liaisons cannot read it
        assert httpx.get(f"{stack.gateway}{path}").status_code == 401
    for method in ("DELETE", "PUT", "PATCH", "POST"):  # nobody can change it through the API
        assert (
            httpx.request(method, f"{stack.gateway}/api/admin/audit", headers=staff[ADMIN[0]]).status_code
            == 405
        )

    entries = httpx.get(
        f"{stack.gateway}/api/admin/audit", params={"target": f"escalation:{esc_id}"}, headers=staff[ADMIN[0]]
    ).json()
    assert [(e["actor"], e["action"]) for e in entries] == [
        (LIAISON[0], "open"),
        (LIAISON[0], "reply"),
        (LIAISON[0], "resolve"),
    ]
    assert {e["address"] for e in entries} == {"127.0.0.1"}
    assert all(e["at"] for e in entries)
    everything = httpx.get(
        f"{stack.gateway}/api/admin/audit", params={"actor": LIAISON[0]}, headers=staff[ADMIN[0]]
    ).json()
    actions = [e["action"] for e in everything]
    assert {"login", "open", "reply", "resolve", "export", "login_failed"} <= set(actions)

    export = httpx.get(f"{stack.gateway}/api/admin/audit.csv", headers=staff[ADMIN[0]])
    table = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert table[0] == ["序号", "时间", "账号", "角色", "操作", "对象", "来源地址", "说明"]
    assert [r[4] for r in table[1:] if r[5] == f"escalation:{esc_id}"] == [
        "open",
        "reply",
        "resolve",
        "audit_read",
    ]
    mine = httpx.get(
        f"{stack.gateway}/api/admin/audit", params={"actor": ADMIN[0]}, headers=staff[ADMIN[0]]
    ).json()
    assert [e["action"] for e in mine][-2:] == ["audit_read", "audit_export"]  # reading it is audited too


def test_purge_command_reports_what_it_removed(stack: Stack) -> None:
    done = stack.admin("purge")
    report = json.loads(done.stdout)
    assert set(report) >= {
        "cutoff",
        "conversations",
        "messages",
        "escalations_pseudonymised",
        "tracker_events",
    }
    bad = stack.admin("purge", "--days", "0", check=False)
    assert bad.returncode == 2
    assert "--days" in bad.stderr
