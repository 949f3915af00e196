"""The gateway's HTTP API against the real stack (Rasa, actions, gateway, SQLite store)."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from typing import Any

import httpx
import pytest

from bench.stack import Stack
from tests.concurrency import fifty_conversations
from tests.webchat import WebChat

LIAISONS = [
    ("t_gxj", "gxj-password-1", "赵工信", "市工业和信息化局"),
    ("t_rsj", "rsj-password-1", "钱人社", "市人力资源和社会保障局"),
    ("t_town", "town-password-1", "孙镇街", "小榄镇"),
]
FIRM_USCC = "91442000MA4W0A1C3F"  # fictional, valid check character


@pytest.fixture(scope="module")
def registered(stack: Stack) -> Stack:
    for username, password, name, department in LIAISONS:
        stack.add_liaison(username, password, name, department)
    done = stack.admin(
        "add-firm",
        "--uscc",
        FIRM_USCC,
        "--name",
        "测试五金有限公司",
        "--level",
        "市级",
        "--liaison",
        "t_town",
    )
    assert done.returncode == 0, done.stderr
    return stack


def login(stack: Stack, username: str, password: str) -> dict[str, str]:
    resp = httpx.post(f"{stack.gateway}/api/liaison/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def test_chat_creates_sender_and_returns_cited_reply(stack: Stack) -> None:
    owner = WebChat(stack.gateway)
    out = owner.send("专精特新企业增长30%有什么补贴")
    assert out["sender_id"].startswith("web-")
    assert len(out["conversation_token"]) >= 40
    assert out["handoff"] is None
    reply = out["replies"][0]
    assert set(reply) == {"text", "buttons", "sources"}
    assert reply["sources"][0] == {
        "policy_id": "zjtx-growth-subsidy",
        "title": "专精特新企业增长补贴",
        "section": "三（二）",
        "cited_as": "答复函",
    }
    history = owner.messages()
    assert [m["role"] for m in history] == ["user", "bot"]
    assert history[0]["text"] == "专精特新企业增长30%有什么补贴"
    assert history[1]["sources"][0]["policy_id"] == "zjtx-growth-subsidy"
    after = owner.messages(after=history[0]["id"])
    assert [m["id"] for m in after] == [history[1]["id"]]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": ""}, 422),
        ({"text": "   "}, 422),
        ({}, 422),
        ({"text": 5}, 422),
        ({"text": "x" * 5000}, 413),
        ({"text": "hi", "sender_id": "bad id with spaces"}, 422),
        ({"text": ["a"]}, 422),
    ],
)
def test_bad_chat_input_is_a_clear_4xx(stack: Stack, body: dict[str, Any], status: int) -> None:
    resp = httpx.post(f"{stack.gateway}/api/chat", json=body)
    assert resp.status_code == status
    assert resp.json()["detail"]


def test_invalid_json_is_422(stack: Stack) -> None:
    resp = httpx.post(
        f"{stack.gateway}/api/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422


def test_healthz_reports_each_dependency(stack: Stack) -> None:
    resp = httpx.get(f"{stack.gateway}/healthz", timeout=10)
    assert resp.status_code == 200
    assert set(resp.json()["checks"]) == {"rasa", "actions", "knowledge_base", "database"}


def test_handoff_endpoint_requires_the_secret(stack: Stack) -> None:
    packet = {"sender_id": "web-nosecret", "question": "q"}
    assert httpx.post(f"{stack.gateway}/internal/handoff", json=packet).status_code == 403
    wrong = {"X-Handoff-Secret": "nope"}
    assert httpx.post(f"{stack.gateway}/internal/handoff", json=packet, headers=wrong).status_code == 403


def test_handoff_endpoint_is_idempotent_per_conversation(stack: Stack) -> None:
    headers = {"X-Handoff-Secret": stack.env["HANDOFF_SECRET"]}
    packet = {
        "sender_id": f"web-{uuid.uuid4().hex}",
        "question": "人才补贴怎么申请",
        "intent": "ask_talent_subsidy",
    }
    first = httpx.post(f"{stack.gateway}/internal/handoff", json=packet, headers=headers).json()
    second = httpx.post(f"{stack.gateway}/internal/handoff", json=packet, headers=headers).json()
    assert first["created"] is True
    assert second["created"] is False
    assert first["escalation_id"] == second["escalation_id"]
    assert "市人力资源和社会保障局" in first["liaison"]


def test_login_errors(registered: Stack) -> None:
    url = f"{registered.gateway}/api/liaison/login"
    assert httpx.post(url, json={"username": "t_gxj", "password": "wrong"}).status_code == 401
    assert httpx.post(url, json={"username": "", "password": "x"}).status_code == 422
    assert httpx.get(f"{registered.gateway}/api/escalations").status_code == 401
    assert (
        httpx.get(
            f"{registered.gateway}/api/escalations", headers={"Authorization": "Bearer forged"}
        ).status_code
        == 401
    )


def test_full_handoff_lifecycle_and_bot_resumes(registered: Stack) -> None:
    stack = registered
    owner = WebChat(stack.gateway)
    owner.send("新型学徒制培训补贴要准备什么材料")
    out = owner.send("转人工")
    handoff = out["handoff"]
    assert handoff
    assert handoff["status"] == "open"
    assert "市人力资源和社会保障局" in handoff["liaison"]
    held = owner.send("麻烦尽快回复，谢谢")
    assert held["replies"] == []
    assert held["handoff"]["escalation_id"] == handoff["escalation_id"]

    rsj, gxj = login(stack, "t_rsj", "rsj-password-1"), login(stack, "t_gxj", "gxj-password-1")
    esc_id = handoff["escalation_id"]
    queue = httpx.get(f"{stack.gateway}/api/escalations", params={"scope": "queue"}, headers=rsj).json()
    assert esc_id in [e["id"] for e in queue["items"]]
    other = httpx.get(f"{stack.gateway}/api/escalations", headers=gxj).json()
    assert esc_id not in [e["id"] for e in other["items"]]  # another department's queue stays hidden
    for verb in ("claim", "resolve", "return"):
        assert httpx.post(f"{stack.gateway}/api/escalations/{esc_id}/{verb}", headers=gxj).status_code == 404
    assert httpx.get(f"{stack.gateway}/api/escalations/{esc_id}", headers=gxj).status_code == 404

    detail = httpx.get(f"{stack.gateway}/api/escalations/{esc_id}", headers=rsj).json()
    assert detail["packet"]["question"] == "新型学徒制培训补贴要准备什么材料"
    assert detail["packet"]["citations"][0]["policy_id"] == "new-apprenticeship"
    assert detail["unread"] == 1
    claimed = httpx.post(f"{stack.gateway}/api/escalations/{esc_id}/claim", headers=rsj).json()
    assert claimed["status"] == "claimed"
    assert claimed["claimed_by"] == "t_rsj"
    assert (
        httpx.post(
            f"{stack.gateway}/api/escalations/{esc_id}/reply", json={"text": " "}, headers=rsj
        ).status_code
        == 422
    )
    replied = httpx.post(
        f"{stack.gateway}/api/escalations/{esc_id}/reply",
        json={"text": "材料清单以人社局当期通知为准，我稍后发给您。"},
        headers=rsj,
    ).json()
    assert replied["sla_state"] == "met"
    httpx.post(f"{stack.gateway}/api/escalations/{esc_id}/notes", json={"text": "已电话联系"}, headers=rsj)
    resolved = httpx.post(f"{stack.gateway}/api/escalations/{esc_id}/resolve", headers=rsj).json()
    assert resolved["status"] == "resolved"
    assert [e["kind"] for e in resolved["events"]] == ["created", "claimed", "replied", "note", "resolved"]
    assert httpx.post(f"{stack.gateway}/api/escalations/{esc_id}/claim", headers=rsj).status_code == 409

    roles = [m["role"] for m in owner.messages()]
    assert roles[-2:] == ["liaison", "system"]
    back = owner.send("专精特新股改资助最多多少")
    assert back["handoff"] is None
    assert back["replies"][0]["sources"][0]["policy_id"] == "zjtx-shareholding-reform"


def test_registered_firm_goes_to_its_liaison(registered: Stack) -> None:
    stack = registered
    owner = WebChat(stack.gateway)
    owner.send(f"我们公司统一社会信用代码是{FIRM_USCC}")
    out = owner.send("我要找挂点领导")
    assert "孙镇街" in out["handoff"]["liaison"]
    town = login(stack, "t_town", "town-password-1")
    mine = httpx.get(f"{stack.gateway}/api/escalations", params={"scope": "mine"}, headers=town).json()
    assert out["handoff"]["escalation_id"] in [e["id"] for e in mine["items"]]
    export = httpx.get(f"{stack.gateway}/api/escalations.csv", headers=town)
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["工单号", "企业名称", "统一社会信用代码"]
    assert any(r[2] == FIRM_USCC for r in rows[1:])


def test_liaison_reply_reaches_the_stream_within_two_seconds(registered: Stack) -> None:
    stack = registered
    owner = WebChat(stack.gateway)
    esc_id = owner.send("我要人工服务")["handoff"]["escalation_id"]
    last = owner.messages()[-1]["id"]
    gxj = login(stack, "t_gxj", "gxj-password-1")
    with httpx.stream(
        "GET",
        f"{stack.gateway}/api/conversations/{owner.sender_id}/stream",
        params={"after": last},
        headers=owner.headers,
        timeout=10,
    ) as stream:
        sent = time.monotonic()
        assert (
            httpx.post(
                f"{stack.gateway}/api/escalations/{esc_id}/reply",
                json={"text": "您好，我是工信局赵工"},
                headers=gxj,
            ).status_code
            == 200
        )
        arrived: float | None = None
        for line in stream.iter_lines():
            if line.startswith("data:") and "赵工" in line:
                arrived = time.monotonic() - sent
                break
            if time.monotonic() - sent > 10:  # keep-alive comments would keep a silent stream open
                break
        assert arrived is not None, "the stream ended or went quiet without the liaison's reply"
        assert arrived < 2.0


def test_admin_cli_errors_are_clear(stack: Stack, tmp_path: Any) -> None:
    bad = stack.admin(
        "add-firm", "--uscc", "91442000MA4W0A1C3A", "--name", "X", "--level", "市级", check=False
    )
    assert bad.returncode == 2
    assert "统一社会信用代码" in bad.stderr
    csv_file = tmp_path / "firms.csv"
    csv_file.write_text(
        "uscc,name,level,liaison\n91442000MA4W0A1B2B,甲公司,市级,\n123,乙公司,市级,\n", encoding="utf-8"
    )
    out = stack.admin("import-firms", str(csv_file), check=False)
    assert out.returncode == 2
    assert "row 3" in out.stderr
    assert "nothing imported" in out.stderr
    listing = stack.admin(
        "add-firm", "--uscc", "91442000MA4W0A1B2B", "--name", "甲公司", "--liaison", "nobody", check=False
    )
    assert listing.returncode == 2
    assert "not a registered liaison" in listing.stderr


def test_fifty_concurrent_conversations_on_sqlite(stack: Stack) -> None:
    asyncio.run(fifty_conversations(stack))
