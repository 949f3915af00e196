"""The editors' API over HTTP on a stack of its own: roles, refusals per field, and a published record
answered by the real bot (Rasa, action server) through /api/chat without a restart, cited by its source."""

from __future__ import annotations

import time

import httpx
import pytest

from bench.stack import Stack
from tests.webchat import WebChat

NOTICE = (
    "中山市工业和信息化局关于支持企业建设数字化车间的通知\n"
    "一、对新认定的市级数字化车间，一次性给予50万元奖励。\n"
    "二、本通知自2026年2月1日起施行。\n"
)
RECORD = {
    "id": "digital-workshop-award-2026",
    "title": "市级数字化车间奖励",
    "section": "第一条",
    "departments": ["市工业和信息化局"],
    "category": "digital_transformation",
    "audience": "新认定的市级数字化车间",
    "benefit_text": "新认定的市级数字化车间一次性奖励50万元。",
    "amounts_wan": [{"min": 50, "max": 50, "label": "数字化车间奖励"}],
    "conditions": None,
    "aliases": ["数字化车间奖励", "数字化车间"],
    "status": "in_force",
    "valid_from": None,
    "valid_until": None,
    "quote": "对新认定的市级数字化车间，一次性给予50万元奖励。",
}


def login(stack: Stack, username: str, password: str) -> dict[str, str]:
    resp = httpx.post(f"{stack.gateway}/api/liaison/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def first_reply_with(stack: Stack, question: str, marker: str, within_s: float = 15) -> str:
    """The first reply, in a new conversation each time, that contains ``marker`` (or the last one)."""
    deadline, reply = time.monotonic() + within_s, ""
    while time.monotonic() < deadline:
        reply = str(WebChat(stack.gateway).send(question)["replies"][0]["text"])
        if marker in reply:
            break
        time.sleep(0.3)
    return reply


@pytest.fixture(scope="module")
def staff(kb_stack: Stack) -> dict[str, dict[str, str]]:
    kb_stack.add_liaison("api_editor", "editor-pass-1", "编辑甲", "市工业和信息化局", role="editor")
    kb_stack.add_liaison("api_liaison", "liaison-pass-1", "联络员乙", "市工业和信息化局")
    return {
        "editor": login(kb_stack, "api_editor", "editor-pass-1"),
        "liaison": login(kb_stack, "api_liaison", "liaison-pass-1"),
    }


def test_only_editors_and_admins_reach_the_knowledge(
    kb_stack: Stack, staff: dict[str, dict[str, str]]
) -> None:
    base = f"{kb_stack.gateway}/api/knowledge"
    assert httpx.get(f"{base}/records").status_code == 401
    refused = httpx.get(f"{base}/records", headers=staff["liaison"])
    assert refused.status_code == 403
    assert refused.json() == {"detail": "editors only"}
    records = httpx.get(f"{base}/records", headers=staff["editor"]).json()
    assert {"zjtx-growth-subsidy", "letter-contact"} <= {r["id"] for r in records}
    seeded = [r for r in records if r["updated_by"] == "seed"]
    assert len(seeded) == 51
    assert all(r["published_version"] == 1 and r["draft_version"] is None for r in seeded)
    sources = httpx.get(f"{base}/sources", headers=staff["editor"]).json()
    assert (sources[0]["id"], sources[0]["cited_as"], sources[0]["created_by"]) == (
        "letter-2022-38",
        "答复函",
        "seed",
    )


def test_a_published_record_is_answered_and_cited_by_its_own_source(
    kb_stack: Stack, staff: dict[str, dict[str, str]]
) -> None:
    base, editor = f"{kb_stack.gateway}/api/knowledge", staff["editor"]
    source = {
        "title": "关于支持企业建设数字化车间的通知",
        "doc_no": "中工信〔2026〕3号",
        "date": "2026-02-01",
    }
    bad_date = httpx.post(
        f"{base}/sources", headers=editor, json={**source, "date": "2026-2-1", "text": NOTICE}
    )
    assert bad_date.status_code == 422
    assert bad_date.json()["detail"][0]["loc"] == ["body", "date"]
    created = httpx.post(f"{base}/sources", headers=editor, json={**source, "text": NOTICE})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    assert sid.startswith("src-2026-")

    wrong = {**RECORD, "source_id": sid, "quote": "对新认定的市级数字化车间，一次性给予80万元奖励。"}
    refused = httpx.post(f"{base}/records", headers=editor, json=wrong)
    assert refused.status_code == 422
    assert [e["loc"] for e in refused.json()["detail"]] == [["body", "quote"]]
    assert "找不到" in refused.json()["detail"][0]["msg"]
    assert httpx.get(f"{base}/records/{RECORD['id']}", headers=editor).status_code == 404  # nothing stored

    owner = WebChat(kb_stack.gateway)
    before = owner.send("数字化车间奖励有多少钱？")["replies"][0]["text"]
    assert "50万" not in before

    saved = httpx.post(f"{base}/records", headers=editor, json={**RECORD, "source_id": sid})
    assert saved.status_code == 201, saved.text
    assert saved.json()["quote_at"]["before"].endswith("一、")
    assert httpx.post(f"{base}/records", headers=editor, json={**RECORD, "source_id": sid}).status_code == 409
    published = httpx.post(f"{base}/records/{RECORD['id']}/publish", headers=editor)
    assert published.status_code == 200, published.text
    published_at = time.monotonic()
    assert published.json()["version"] == 1
    assert httpx.post(f"{base}/records/{RECORD['id']}/publish", headers=editor).status_code == 409

    reply = first_reply_with(kb_stack, "数字化车间奖励有多少钱？", "50万")
    print(f"publish_to_answer_s={time.monotonic() - published_at:.2f}")
    assert "50万" in reply
    assert "中工信〔2026〕3号 第一条，2026年2月1日" in reply
    assert "答复函原文" not in reply


def test_a_liaisons_answer_becomes_a_labelled_staff_answer(
    kb_stack: Stack, staff: dict[str, dict[str, str]]
) -> None:
    question = "数字化车间奖励的申报材料要交哪些？"
    owner = WebChat(kb_stack.gateway)
    first = owner.send(question)["replies"][0]["text"]
    assert "工作人员答复" not in first
    handoff = owner.send("转人工")["handoff"]
    assert handoff is not None, "the owner asked for a person"
    esc_id = handoff["escalation_id"]
    answer = "数字化车间奖励申报需提交车间认定文件、设备清单和财务报表，具体以当年通知为准。"
    proposed = httpx.post(
        f"{kb_stack.gateway}/api/escalations/{esc_id}/propose",
        headers=staff["liaison"],
        json={"question": question, "answer": answer},
    )
    assert proposed.status_code == 201, proposed.text
    item = proposed.json()
    assert (item["status"], item["department"], item["escalation_id"]) == (
        "pending",
        "市工业和信息化局",
        esc_id,
    )

    base, editor = f"{kb_stack.gateway}/api/knowledge", staff["editor"]
    assert httpx.get(f"{base}/proposals", headers=staff["liaison"]).status_code == 403
    assert [p["id"] for p in httpx.get(f"{base}/proposals", headers=editor).json()] == [item["id"]]
    early = httpx.post(f"{base}/proposals/{item['id']}/publish", headers=editor)
    assert early.status_code == 422
    assert early.json()["detail"][0]["loc"] == ["body", "review_by"]
    edit = {
        "questions": [question, "数字化车间奖励要准备什么材料"],
        "answer": answer,
        "department": "市工业和信息化局",
        "record_ids": [],
        "review_by": "2099-12-31",
    }
    assert httpx.put(f"{base}/proposals/{item['id']}", headers=editor, json=edit).status_code == 200
    published = httpx.post(f"{base}/proposals/{item['id']}/publish", headers=editor)
    assert published.status_code == 200, published.text
    published_at = time.monotonic()

    reply = first_reply_with(kb_stack, "数字化车间奖励要准备什么材料？", "工作人员答复")
    print(f"staff_publish_to_answer_s={time.monotonic() - published_at:.2f}")
    assert reply.startswith("工作人员答复 · 市工业和信息化局 · ")
    assert answer in reply
    assert "不是答复函原文" in reply
    snippets = httpx.get(
        f"{base}/snippets", params={"q": "数字化车间奖励材料"}, headers=staff["liaison"]
    ).json()
    assert {s["kind"] for s in snippets} == {"staff", "record"}
