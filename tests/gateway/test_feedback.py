"""Owners' feedback (issue 16): answer ratings, case scores, push notices and the push subscription, in the
data layer on SQLite and PostgreSQL and through the real gateway's routes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from bench.stack import Stack
from gateway.data.feedback import Feedback
from gateway.data.schema import conversations, escalations, messages, push_optouts, pushes, ratings, utcnow
from gateway.data.store import Store
from tests.webchat import WebChat

FIRM = "91442000MA4W0F0B1X"
OTHER_FIRM = "91442000MA4W0F0C2Y"
LIAISON = ("fb_gxj", "fb-gxj-password-1", "冯工信", "市工业和信息化局")
QUESTION = "股改资助最多多少"


# -- seeding ---------------------------------------------------------------------------------------
def case(store: Store, sender_id: str, status: str) -> int:
    """A case of ``sender_id`` in ``status``."""
    now = utcnow()
    with store.tx() as con:
        return int(
            con.execute(
                escalations.insert().values(
                    sender_id=sender_id,
                    channel="web",
                    status=status,
                    open_key=None if status == "resolved" else sender_id,
                    question="转人工",
                    packet="{}",
                    created_at=now,
                    due_at=now + timedelta(hours=8),
                    resolved_at=now if status == "resolved" else None,
                )
            ).inserted_primary_key[0]
        )


def push(store: Store, uscc: str, record_id: str, *, minutes_ago: int = 0, seen: bool = False) -> int:
    """A push of ``record_id`` to the firm ``uscc``."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    with store.tx() as con:
        return int(
            con.execute(
                pushes.insert().values(
                    record_id=record_id,
                    version=1,
                    uscc=uscc,
                    verdict="符合",
                    text=f"【政策推送】{record_id} 适合贵企业",
                    channels="web",
                    sent_by="editor",
                    created_at=at,
                    seen_at=at if seen else None,
                )
            ).inserted_primary_key[0]
        )


def bind(store: Store, sender_id: str, uscc: str) -> None:
    """The conversation belongs to the firm ``uscc``."""
    with store.tx() as con:
        con.execute(
            conversations.update().where(conversations.c.sender_id == sender_id).values(firm_uscc=uscc)
        )


def rows(store: Store, table: sa.Table) -> list[dict[str, Any]]:
    with store.engine.connect() as con:
        return [
            dict(r) for r in con.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings()
        ]


# -- the data layer, on both databases ----------------------------------------------------------------
def test_an_answer_rating_is_one_row_that_a_second_rating_changes(store: Store) -> None:
    data = Feedback(store)
    asked = store.add_message("web-a", "user", QUESTION)
    answer = store.add_message("web-a", "bot", "股改资助最高 200 万元。")
    store.add_message("web-b", "bot", "另一个对话的回答")

    first = data.rate_answer("web-a", answer, False, "没说申请时间", "web")
    assert first == {
        "key": f"answer:{answer}",
        "kind": "answer",
        "message_id": answer,
        "escalation_id": None,
        "value": 0,
        "reason": "没说申请时间",
    }
    created = rows(store, ratings)[0]
    assert data.rate_answer("web-a", answer, True, None, "web") == {**first, "value": 1}  # reason kept
    [changed] = rows(store, ratings)
    assert changed["created_at"] == created["created_at"]
    assert changed["updated_at"] > created["updated_at"]
    assert (changed["sender_id"], changed["channel"]) == ("web-a", "web")
    # Only bot messages of that conversation can be rated.
    assert data.rate_answer("web-a", asked, True, None, "web") is None
    assert data.rate_answer("web-b", answer, True, None, "web") is None
    assert data.rate_answer("web-a", answer + 100, True, None, "web") is None
    assert len(rows(store, ratings)) == 1
    assert [r["message_id"] for r in data.answer_ratings("web-a")] == [answer]
    assert data.answer_ratings("web-b") == []


def test_a_case_score_only_for_a_resolved_case_of_that_conversation(store: Store) -> None:
    data = Feedback(store)
    store.add_message("web-a", "user", "转人工")
    store.add_message("web-b", "user", "转人工")
    resolved, still_open = case(store, "web-a", "resolved"), case(store, "web-a", "claimed")
    others = case(store, "web-b", "resolved")

    assert data.rate_case("web-a", still_open, 5, None, "web") is None
    assert data.rate_case("web-a", others, 5, None, "web") is None
    assert data.rate_case("web-a", resolved + others + 10, 5, None, "web") is None
    rated = data.rate_case("web-a", resolved, 4, "回复很及时", "web")
    assert rated == {
        "key": f"case:{resolved}",
        "kind": "case",
        "message_id": None,
        "escalation_id": resolved,
        "value": 4,
        "reason": "回复很及时",
    }
    assert data.rate_case("web-a", resolved, 5, None, "web") == {**rated, "value": 5}
    assert [(r["kind"], r["value"]) for r in rows(store, ratings)] == [("case", 5)]


def test_notices_are_the_firms_unseen_pushes_oldest_first_and_marked_seen(store: Store) -> None:
    data = Feedback(store)
    store.add_message("web-firm", "user", "你好")
    store.add_message("web-none", "user", "你好")
    bind(store, "web-firm", FIRM)
    newer = push(store, FIRM, "zjtx_growth", minutes_ago=1)
    older = push(store, FIRM, "digital_reform", minutes_ago=30)
    push(store, FIRM, "old_one", minutes_ago=60, seen=True)
    foreign = push(store, OTHER_FIRM, "zjtx_growth")

    assert data.firm_of("web-firm") == FIRM
    assert data.firm_of("web-none") is None
    shown = data.unseen_notices(FIRM)
    assert [(n["id"], n["record_id"]) for n in shown] == [(older, "digital_reform"), (newer, "zjtx_growth")]
    assert shown[0]["text"] == "【政策推送】digital_reform 适合贵企业"
    assert shown[0]["created_at"] is not None
    # Another firm's push is never marked through this firm.
    assert data.mark_seen(FIRM, [older, foreign]) == 1
    assert [n["id"] for n in data.unseen_notices(FIRM)] == [newer]
    assert [n["id"] for n in data.unseen_notices(OTHER_FIRM)] == [foreign]
    assert data.mark_seen(FIRM, [older]) == 0  # already seen
    assert data.mark_seen(FIRM, []) == 0


def test_a_firm_stops_and_resumes_pushes(store: Store) -> None:
    data = Feedback(store)
    assert data.subscribed(FIRM) is True
    assert data.set_subscribed(FIRM, False, "wecom-chat") is False
    assert data.set_subscribed(FIRM, False, "web") is False  # twice: still one row, the first channel
    [optout] = rows(store, push_optouts)
    assert (optout["uscc"], optout["via"]) == (FIRM, "wecom-chat")
    assert data.subscribed(FIRM) is False
    assert data.subscribed(OTHER_FIRM) is True
    assert data.set_subscribed(FIRM, True, "web") is True
    assert rows(store, push_optouts) == []


def test_a_rating_prompt_counts_for_a_day(store: Store) -> None:
    data = Feedback(store)
    store.add_message("wecom:u1", "bot", "答复", buttons=[{"title": "有帮助", "payload": "#rate:1"}])
    store.add_message("wecom:u2", "bot", "答复", buttons=[{"title": "转人工", "payload": "/request_human"}])
    assert data.prompted_since("wecom:u1", 24) is True
    assert data.prompted_since("wecom:u2", 24) is False
    with store.tx() as con:
        con.execute(messages.update().values(created_at=utcnow() - timedelta(hours=25)))
    assert data.prompted_since("wecom:u1", 24) is False


# -- the routes, through the real gateway ---------------------------------------------------------
def db(stack: Stack) -> Store:
    return Store(stack.env["DATABASE_URL"])


def api(owner: WebChat, method: str, suffix: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        f"{owner.base}/api/conversations/{owner.sender_id}{suffix}",
        json=body,
        headers={**owner.headers, **kwargs.pop("headers", {})},
        timeout=30,
    )


def bot_ids(owner: WebChat) -> list[int]:
    return [m["id"] for m in owner.messages() if m["role"] == "bot"]


def test_rating_an_answer_through_the_api(stack: Stack) -> None:
    owner, other = WebChat(stack.gateway), WebChat(stack.gateway)
    out = owner.send(QUESTION)
    other.send(QUESTION)
    answer = bot_ids(owner)[-1]
    own_message = out["message_id"]

    resp = api(owner, "POST", f"/messages/{answer}/rating", {"helpful": False, "reason": " 没说怎么申请 "})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "message_id": answer,
        "helpful": False,
        "reason": "没说怎么申请",
        "offer_handoff": True,
    }
    again = api(owner, "POST", f"/messages/{answer}/rating", {"helpful": True}).json()
    assert again == {"message_id": answer, "helpful": True, "reason": "没说怎么申请", "offer_handoff": False}
    assert api(owner, "GET", "/ratings").json() == {
        "answers": [{"message_id": answer, "helpful": True, "reason": "没说怎么申请"}],
        "cases": [],
    }
    store = db(stack)
    with store.engine.connect() as con:
        stored = con.execute(sa.select(ratings).where(ratings.c.key == f"answer:{answer}")).mappings().one()
    assert (stored["kind"], stored["value"], stored["sender_id"]) == ("answer", 1, owner.sender_id)

    # Not a bot message of this conversation, or not this conversation's secret.
    assert api(owner, "POST", f"/messages/{own_message}/rating", {"helpful": True}).status_code == 404
    assert api(owner, "POST", f"/messages/{bot_ids(other)[-1]}/rating", {"helpful": True}).status_code == 404
    assert api(other, "POST", f"/messages/{answer}/rating", {"helpful": True}).status_code == 404
    assert (
        api(
            owner,
            "POST",
            f"/messages/{answer}/rating",
            {"helpful": True},
            headers={"X-Conversation-Token": "x"},
        )
    ).status_code == 403
    # Bad bodies are refused in FastAPI's shape.
    for body in ({}, {"helpful": "yes"}, {"helpful": False, "reason": "长" * 501}):
        assert api(owner, "POST", f"/messages/{answer}/rating", body).status_code == 422
    assert api(owner, "POST", "/messages/0/rating", {"helpful": True}).status_code == 422


def test_a_resolved_case_is_scored_once_the_liaison_resolves_it(stack: Stack) -> None:
    stack.add_liaison(*LIAISON)
    token = httpx.post(
        f"{stack.gateway}/api/liaison/login", json={"username": LIAISON[0], "password": LIAISON[1]}
    ).json()["token"]
    staff = {"Authorization": f"Bearer {token}"}
    owner = WebChat(stack.gateway)
    esc_id = owner.send("我要转人工")["handoff"]["escalation_id"]
    score = {"score": 5, "comment": "很及时"}
    assert api(owner, "POST", f"/escalations/{esc_id}/satisfaction", score).status_code == 404  # not resolved
    resp = httpx.post(f"{stack.gateway}/api/escalations/{esc_id}/resolve", headers=staff, timeout=30)
    assert resp.status_code == 200, resp.text
    resumed = [m for m in owner.messages() if m["kind"] == "resumed"]
    assert len(resumed) == 1
    assert api(owner, "GET", "/ratings").json()["cases"] == [
        {"escalation_id": esc_id, "message_id": resumed[0]["id"], "score": None, "comment": ""}
    ]
    for bad in ({"score": 0}, {"score": 6}, {"score": 4.5}, {"score": 3, "comment": "长" * 501}):
        assert api(owner, "POST", f"/escalations/{esc_id}/satisfaction", bad).status_code == 422
    stranger = WebChat(stack.gateway)
    stranger.send("你好")
    assert api(stranger, "POST", f"/escalations/{esc_id}/satisfaction", score).status_code == 404

    rated = api(owner, "POST", f"/escalations/{esc_id}/satisfaction", score)
    assert rated.status_code == 200, rated.text
    assert rated.json() == {"escalation_id": esc_id, "score": 5, "comment": "很及时"}
    assert api(owner, "GET", "/ratings").json()["cases"][0]["score"] == 5


def test_notices_and_the_subscription_through_the_api(stack: Stack) -> None:
    store = db(stack)
    uscc = FIRM[:-4] + uuid.uuid4().hex[:4].upper()  # a firm of its own: the stack is shared
    owner, plain = WebChat(stack.gateway), WebChat(stack.gateway)
    owner.send("你好")
    plain.send("你好")
    assert api(plain, "GET", "/notices").json() == {"firm": False, "subscribed": False, "notices": []}
    assert api(plain, "PUT", "/subscription", {"subscribed": False}).status_code == 409
    bind(store, str(owner.sender_id), uscc)
    first, second = push(store, uscc, "rec_a", minutes_ago=5), push(store, uscc, "rec_b")
    foreign = push(store, uscc[:-1] + ("0" if uscc[-1] != "0" else "1"), "rec_a")

    out = api(owner, "GET", "/notices").json()
    assert out["firm"] is True
    assert out["subscribed"] is True
    assert [(n["id"], n["record_id"]) for n in out["notices"]] == [(first, "rec_a"), (second, "rec_b")]
    seen = api(owner, "POST", "/notices/seen", {"ids": [first, second, foreign]})
    assert seen.json() == {"marked": 2}
    assert api(owner, "GET", "/notices").json()["notices"] == []
    assert api(owner, "POST", "/notices/seen", {"ids": ["x"]}).status_code == 422

    assert api(owner, "PUT", "/subscription", {"subscribed": False}).json() == {"subscribed": False}
    assert Feedback(store).subscribed(uscc) is False
    assert api(owner, "GET", "/notices").json()["subscribed"] is False
    assert api(owner, "PUT", "/subscription", {"subscribed": True}).json() == {"subscribed": True}
    assert Feedback(store).subscribed(uscc) is True
    assert api(owner, "PUT", "/subscription", {"subscribed": "no"}).status_code == 422
    assert api(owner, "GET", "/notices", headers={"X-Conversation-Token": "bad"}).status_code == 403
