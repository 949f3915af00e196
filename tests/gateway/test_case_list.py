"""The console's case list on real SQLite and PostgreSQL: keyset pages with unread counts in a constant
number of statements, and one rule for who may see a case (lists and single cases alike)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gateway.data.escalations import EscalationError, Escalations
from gateway.data.registry import Registry
from gateway.data.schema import escalations, messages, utcnow
from gateway.data.store import Store
from gateway.main import create_app
from gateway.routes.escalations import CasePage
from gateway.services import Services
from huiqitong.settings import Settings

GXJ, RSJ, TOWN = "市工业和信息化局", "市人力资源和社会保障局", "小榄镇"
ME = {"username": "gxj_a", "name": "甲", "department": GXJ}
COLLEAGUE = {"username": "gxj_b", "name": "乙", "department": GXJ}
OTHER = {"username": "rsj_c", "name": "丙", "department": RSJ}
QUEUE_CASES = 300
LIST_FIELDS = {
    "id",
    "status",
    "firm_name",
    "question",
    "claimed_by",
    "created_at",
    "first_response_due",
    "sla_state",
    "unread",
}


def case(**values: Any) -> dict[str, Any]:
    """An escalations row: an open case of the GXJ shared queue unless ``values`` say otherwise."""
    now = utcnow()
    n = values.pop("n")
    row: dict[str, Any] = {
        "sender_id": f"web-{n}",
        "channel": "web",
        "status": "open",
        "open_key": f"web-{n}",
        "firm_uscc": None,
        "firm_name": f"测试五金有限公司{n}号",
        "question": f"第{n}家企业：数字化智能化转型项目的贷款贴息怎么申请，需要准备哪些材料，多久能批下来？",
        "department": GXJ,
        "liaison": None,
        "backup_liaison": None,
        "claimed_by": None,
        "packet": json.dumps({"sender_id": f"web-{n}", "question": "…" * 200}, ensure_ascii=False),
        "created_at": now - timedelta(minutes=1000 - n),
        "due_at": now + timedelta(hours=4),
        "first_response_at": None,
        "resolved_at": None,
    }
    row.update(values)
    if row["status"] == "resolved":
        row.update(open_key=None, resolved_at=now)
    return row


def seed(store: Store, queue_cases: int = QUEUE_CASES) -> dict[int, dict[str, Any]]:
    """``queue_cases`` unresolved cases in GXJ's shared queue (some claimed by a colleague, some by me),
    interleaved with resolved ones, other departments' cases, another liaison's firm cases and cases
    where I am the backup; held owner messages on some. Returns the rows by id, with their unread count."""
    past = utcnow() - timedelta(hours=1)
    numbers = itertools.count()
    rows: list[dict[str, Any]] = []
    for i in range(queue_cases):
        claimed = "gxj_b" if i % 10 == 3 else "gxj_a" if i % 25 == 7 else None
        rows.append(case(n=next(numbers), status="claimed" if claimed else "open", claimed_by=claimed))
        if i % 20 == 5:
            rows.append(case(n=next(numbers), department=RSJ))  # another department's queue
        if i % 40 == 11:
            rows.append(case(n=next(numbers), department=RSJ, status="claimed", claimed_by="rsj_c"))
        if i % 50 == 17:
            rows.append(case(n=next(numbers), status="resolved"))  # GXJ's queue, but done
        if i % 60 == 23:  # another liaison's firm, a colleague of mine its backup
            rows.append(case(n=next(numbers), department=TOWN, liaison="town_d", backup_liaison="gxj_b"))
    rows += [
        case(n=next(numbers), department=TOWN, liaison="gxj_a"),  # my own firm, routed to me
        case(n=next(numbers), department=TOWN, liaison="gxj_a", status="claimed", claimed_by="gxj_a"),
        case(n=next(numbers), department=TOWN, liaison="town_d", backup_liaison="gxj_a", due_at=past),
        case(n=next(numbers), department=TOWN, liaison="town_d", backup_liaison="gxj_a"),  # not overdue
        case(  # overdue, but its liaison holds it
            n=next(numbers),
            department=TOWN,
            liaison="town_d",
            backup_liaison="gxj_a",
            due_at=past,
            status="claimed",
            claimed_by="town_d",
        ),
        case(n=next(numbers), department=RSJ, status="claimed", claimed_by="gxj_a"),  # I claimed it there
        case(  # answered late, then returned: still overdue
            n=next(numbers),
            department=TOWN,
            liaison="town_d",
            backup_liaison="gxj_a",
            due_at=past - timedelta(hours=1),
            first_response_at=past,
        ),
        case(  # answered in time, then returned
            n=next(numbers),
            department=TOWN,
            liaison="town_d",
            backup_liaison="gxj_a",
            due_at=past,
            first_response_at=past - timedelta(hours=1),
        ),
    ]
    with store.tx() as con:
        con.execute(escalations.insert(), rows)
        seeded = con.execute(sa.select(escalations).order_by(escalations.c.id)).mappings().all()
        by_id = {r["id"]: {**r, "unread": 0} for r in seeded}
        held: list[dict[str, Any]] = []
        for k, esc_id in enumerate(by_id):
            sender = by_id[esc_id]["sender_id"]
            base = {"sender_id": sender, "escalation_id": esc_id, "created_at": utcnow()}
            if k % 7 == 0:  # waiting for the liaison
                by_id[esc_id]["unread"] = k % 3 + 1
                held += [{**base, "role": "user", "text": "还在吗？", "status": "held"}] * (k % 3 + 1)
            if k % 5 == 0:  # already read, and the bot's: never counted
                held.append({**base, "role": "user", "text": "谢谢", "status": "read"})
                held.append({**base, "role": "bot", "text": "请稍候", "status": "stored"})
        con.execute(messages.insert(), held)
    return by_id


def expected(rows: dict[int, dict[str, Any]], user: dict[str, str], scope: str) -> list[int]:
    """The ids a liaison's list shows, newest first, by the rule written out case by case."""
    me, now = user["username"], utcnow()
    out = []
    for esc_id, r in rows.items():
        if r["status"] == "resolved":
            continue
        answered = r["first_response_at"]
        overdue = r["due_at"] < now if answered is None else answered > r["due_at"]
        visible = (
            me in (r["liaison"], r["claimed_by"])
            or (r["liaison"] is None and r["department"] == user["department"])
            or (r["backup_liaison"] == me and r["status"] == "open" and overdue)
        )
        mine = me in (r["liaison"], r["claimed_by"], r["backup_liaison"])
        queue = r["liaison"] is None and r["claimed_by"] != me
        if visible and {"all": True, "mine": mine, "queue": queue}[scope]:
            out.append(esc_id)
    return sorted(out, reverse=True)


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store's engine sends while the block runs."""
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])  # (conn, cursor, statement, parameters, context, executemany)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)


def walk(escs: Escalations, user: dict[str, str], scope: str, limit: int) -> list[list[dict[str, Any]]]:
    pages, before = [], None
    while True:
        page = escs.page_for(user, scope, limit, before)
        pages.append(page["items"])
        before = page["next"]
        if before is None:
            return pages


@pytest.fixture
def escs(store: Store) -> Escalations:
    return Escalations(store, Registry(store), Settings(sla_working_hours=4))


@pytest.mark.parametrize("scope", ["queue", "mine", "all"])
def test_pages_walk_every_visible_case_once_newest_first(store: Store, escs: Escalations, scope: str) -> None:
    rows = seed(store)
    want = expected(rows, ME, scope)
    assert len(want) >= (QUEUE_CASES - 12 if scope != "mine" else 4)
    first = escs.page_for(ME, scope, 50)
    assert first["total"] == len(want)
    assert [e["id"] for e in first["items"]] == want[:50]
    assert (first["next"] is None) == (len(want) <= 50)
    pages = walk(escs, ME, scope, 50)
    assert all(len(p) == 50 for p in pages[:-1])
    assert 1 <= len(pages[-1]) <= 50
    listed = [e for page in pages for e in page]
    assert [e["id"] for e in listed] == want  # each visible case exactly once, in order
    assert {e["id"]: e["unread"] for e in listed} == {i: rows[i]["unread"] for i in want}
    assert all(set(e) == LIST_FIELDS for e in listed)
    assert all(e["status"] in ("open", "claimed") for e in listed)
    assert any(e["unread"] for e in listed)


def test_other_departments_never_listed_and_single_cases_follow_the_same_rule(
    store: Store, escs: Escalations
) -> None:
    rows = seed(store)
    everything = [e["id"] for e in escs.list_for(ME, "all", include_resolved=True)]
    theirs = {i for i, r in rows.items() if r["department"] == RSJ and r["claimed_by"] != "gxj_a"}
    assert theirs
    assert not theirs & set(everything)
    assert not theirs & {e["id"] for page in walk(escs, ME, "all", 200) for e in page}
    assert {e["id"] for page in walk(escs, OTHER, "queue", 200) for e in page} == set(
        expected(rows, OTHER, "queue")
    )
    for esc_id in rows:  # require / visible_to agree with the lists, case by case
        summary = escs.get(esc_id)
        assert summary is not None
        assert escs.visible_to(summary, ME) == (esc_id in everything)
        if esc_id in everything:
            assert escs.require(esc_id, ME)["unread"] == rows[esc_id]["unread"]
        else:
            with pytest.raises(EscalationError) as denied:
                escs.require(esc_id, ME)
            assert denied.value.status == 404


def test_a_colleagues_claim_stays_in_my_queue_mine_leaves_it(store: Store, escs: Escalations) -> None:
    rows = seed(store, queue_cases=30)
    queue = {e["id"]: e for page in walk(escs, ME, "queue", 7) for e in page}
    mine = {e["id"] for page in walk(escs, ME, "mine", 7) for e in page}
    assert {queue[i]["claimed_by"] for i in queue} == {None, "gxj_b"}
    claimed_by_me = {i for i, r in rows.items() if r["claimed_by"] == "gxj_a"}
    assert claimed_by_me <= mine
    assert not claimed_by_me & set(queue)
    assert [e["id"] for e in escs.page_for(COLLEAGUE, "queue", 200)["items"]] == expected(
        rows, COLLEAGUE, "queue"
    )


@pytest.mark.parametrize("cases", [30, QUEUE_CASES])
def test_a_page_costs_the_same_statements_whatever_the_number_of_cases(
    store: Store, escs: Escalations, cases: int
) -> None:
    seed(store, queue_cases=cases)
    for limit in (1, 50, 200):
        before = None
        while True:
            with statements(store) as sent:
                page = escs.page_for(ME, "queue", limit, before)
            assert len(sent) == 2, sent  # the page with its unread counts, and the total
            before = page["next"]
            if before is None:
                break
    with statements(store) as sent:
        escs.list_for(ME, "all", include_resolved=True)  # the CSV export: every case, one statement
    assert len(sent) == 1
    esc_id = escs.page_for(ME, "queue", 1)["items"][0]["id"]
    with statements(store) as sent:
        escs.require(esc_id, ME)
    assert len(sent) == 1


def test_limit_is_bounded(store: Store, escs: Escalations) -> None:
    seed(store, queue_cases=250)
    assert len(escs.page_for(ME, "queue", 0)["items"]) == 1
    assert len(escs.page_for(ME, "queue", 10_000)["items"]) == 200


def test_the_route_pages_and_measures_one_page(store: Store, tmp_path: Path) -> None:
    settings = Settings(
        env="development",
        var_dir=tmp_path,
        database_url=store.engine.url.render_as_string(hide_password=False),
        redis_url="",
        handoff_secret="test-handoff-secret",
        wecom_token="",
    )
    services = Services.build(settings)
    newcomer = {"username": "gxj_x", "name": "新", "department": GXJ}  # claimed none: the whole queue
    Registry(services.store).add_liaison({**newcomer, "password": "gxj-x-password"})
    rows = seed(services.store)
    want = expected(rows, newcomer, "queue")
    assert len(want) == QUEUE_CASES
    with TestClient(create_app(settings, services)) as client:
        token = client.post(
            "/api/liaison/login", json={"username": "gxj_x", "password": "gxj-x-password"}
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        for bad in (0, 201):
            assert client.get(f"/api/escalations?limit={bad}", headers=auth).status_code == 422
        client.get("/api/escalations?scope=queue&limit=50", headers=auth)  # warm up
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            first = client.get("/api/escalations?scope=queue&limit=50", headers=auth)
            timings.append((time.perf_counter() - started) * 1000)
        assert first.status_code == 200
        body = CasePage.parse_raw(first.content)
        assert [e.id for e in body.items] == want[:50]
        assert body.total == len(want)
        listed = [e.id for e in body.items]
        while body.next is not None:
            more = client.get(f"/api/escalations?scope=queue&limit=50&before={body.next}", headers=auth)
            body = CasePage.parse_raw(more.content)
            listed += [e.id for e in body.items]
        assert listed == want
    services.store.engine.dispose()
    print(
        f"\n[{store.engine.dialect.name}] GET /api/escalations?scope=queue&limit=50 of {len(want)} cases: "
        f"median {sorted(timings)[2]:.1f} ms (best {min(timings):.1f}) of 5, {len(first.content)} bytes"
    )
