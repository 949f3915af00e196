"""The store, registry, escalations and auth on real SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.auth import Auth, hash_password, verify_password
from gateway.data.escalations import EscalationError, Escalations
from gateway.data.registry import Registry, RegistryError
from gateway.data.schema import escalations
from gateway.data.store import Store
from gateway.sla import LOCAL, add_working_hours, sla_state
from huiqitong.settings import Settings

LIAISONS = [
    {"username": "gxj_a", "password": "password-a", "name": "甲", "department": "市工业和信息化局"},
    {"username": "gxj_b", "password": "password-b", "name": "乙", "department": "市工业和信息化局"},
    {"username": "rsj_c", "password": "password-c", "name": "丙", "department": "市人力资源和社会保障局"},
    {"username": "town_d", "password": "password-d", "name": "丁", "department": "小榄镇"},
]
FIRM = {
    "uscc": "91442000MA4W0A1C3F",
    "name": "测试五金有限公司",
    "level": "市级",
    "liaison": "town_d",
    "backup_liaison": "gxj_b",
}


@pytest.fixture
def world(store: Store) -> tuple[Store, Registry, Escalations]:
    registry = Registry(store)
    for liaison in LIAISONS:
        registry.add_liaison(liaison)
    registry.add_firm(FIRM)
    return store, registry, Escalations(store, registry, Settings(sla_working_hours=4))


def user(username: str) -> dict[str, str]:
    row = next(r for r in LIAISONS if r["username"] == username)
    return {"username": username, "name": row["name"], "department": row["department"]}


def test_messages_round_trip_in_order(store: Store) -> None:
    sources = [{"policy_id": "zjtx-growth-subsidy", "title": "专精特新企业增长补贴", "section": "三（二）"}]
    first = store.add_message("web-1", "user", "增长补贴多少？", channel="web")
    second = store.add_message(
        "web-1", "bot", "10-100 万元", sources=sources, buttons=[{"title": "好", "payload": "/affirm"}]
    )
    store.add_message("web-2", "user", "别的会话")
    rows = store.messages_after("web-1")
    assert [(r["id"], r["role"], r["text"]) for r in rows] == [
        (first, "user", "增长补贴多少？"),
        (second, "bot", "10-100 万元"),
    ]
    assert rows[1]["sources"] == sources
    assert rows[1]["buttons"] == [{"title": "好", "payload": "/affirm"}]
    assert [r["id"] for r in store.messages_after("web-1", first)] == [second]
    assert [r["text"] for r in store.unprocessed_messages()] == ["增长补贴多少？", "别的会话"]


def test_first_time_is_durable(store: Store) -> None:
    assert store.first_time("wecom:msg:1") is True
    assert store.first_time("wecom:msg:1") is False
    assert Store(store.url).first_time("wecom:msg:1") is False


def test_registry_validates_and_imports_all_or_nothing(
    world: tuple[Store, Registry, Escalations], tmp_path: Path
) -> None:
    _, registry, _ = world
    assert registry.firm(uscc=FIRM["uscc"])["liaison"] == "town_d"  # type: ignore[index]
    with pytest.raises(RegistryError, match="统一社会信用代码"):
        registry.add_firm({**FIRM, "uscc": "91442000MA4W0A1C3A"})
    with pytest.raises(RegistryError, match="not a registered liaison"):
        registry.add_firm({**FIRM, "liaison": "ghost"})
    with pytest.raises(RegistryError, match="level"):
        registry.add_firm({**FIRM, "level": "县级"})
    bad = tmp_path / "firms.csv"
    bad.write_text(
        "uscc,name,level\n91442000MA4W0A1B2B,甲公司,市级\nnot-a-code,乙公司,市级\n", encoding="utf-8"
    )
    with pytest.raises(RegistryError, match="row 3"):
        registry.import_csv(bad, "firms")
    assert registry.firm(uscc="91442000MA4W0A1B2B") is None  # nothing half-imported
    good = tmp_path / "liaisons.csv"
    good.write_text("username,password,name,department\nnew_e,password-e,戊,市科技局\n", encoding="utf-8")
    assert registry.import_csv(good, "liaisons") == 1
    assert registry.liaison("new_e")["department"] == "市科技局"  # type: ignore[index]


def test_routing_firm_liaison_else_department_queue(world: tuple[Store, Registry, Escalations]) -> None:
    _, _, escs = world
    firm_case, created = escs.create({"sender_id": "web-f", "firm": {"uscc": FIRM["uscc"]}, "question": "q"})
    assert created
    assert (firm_case["liaison_username"], firm_case["backup_username"]) == ("town_d", "gxj_b")
    talent, _ = escs.create({"sender_id": "web-t", "intent": "ask_talent_subsidy", "question": "学徒补贴"})
    assert (talent["liaison_username"], talent["department"]) == (None, "市人力资源和社会保障局")
    cited, _ = escs.create(
        {
            "sender_id": "web-c",
            "question": "q",
            "citations": [{"policy_id": "x", "departments": ["市科技局"]}],
        }
    )
    assert cited["department"] == "市科技局"


def test_one_open_escalation_per_conversation_under_concurrency(
    world: tuple[Store, Registry, Escalations],
) -> None:
    _, _, escs = world
    sender = f"web-{uuid.uuid4().hex}"
    results: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def hand_off() -> None:
        esc, created = escs.create({"sender_id": sender, "question": "并发"})
        with lock:
            results.append((esc["id"], created))

    threads = [threading.Thread(target=hand_off) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({esc_id for esc_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_lifecycle_visibility_and_claim_race(world: tuple[Store, Registry, Escalations]) -> None:
    store, _, escs = world
    esc, _ = escs.create({"sender_id": "web-q", "question": "数字化改造贴息"})
    a, b, c = user("gxj_a"), user("gxj_b"), user("rsj_c")
    assert [e["id"] for e in escs.list_for(a, "queue")] == [esc["id"]]
    assert escs.list_for(c) == []
    with pytest.raises(EscalationError) as denied:
        escs.claim(esc["id"], c)
    assert denied.value.status == 404
    outcomes: list[str] = []

    def claim(who: dict[str, str]) -> None:
        try:
            escs.claim(esc["id"], who)
            outcomes.append("ok")
        except EscalationError as exc:
            outcomes.append(str(exc.status))

    threads = [threading.Thread(target=claim, args=(who,)) for who in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "ok"]
    holder = a if escs.get(esc["id"])["claimed_by"] == "gxj_a" else b  # type: ignore[index]
    other = b if holder is a else a
    with pytest.raises(EscalationError):
        escs.reply(esc["id"], other, "抢答")
    _, message_id = escs.reply(esc["id"], holder, "您好")
    assert store.messages_after("web-q")[-1]["id"] == message_id
    assert escs.return_to_queue(esc["id"], holder)["status"] == "open"
    escs.claim(esc["id"], other)
    assert escs.resolve(esc["id"], other)["status"] == "resolved"
    kinds = [e["kind"] for e in escs.detail(esc["id"], other)["events"]]
    assert kinds == ["created", "claimed", "replied", "returned", "claimed", "resolved"]
    again, created = escs.create({"sender_id": "web-q", "question": "新问题"})
    assert created
    assert again["id"] != esc["id"]


def test_backup_sees_an_overdue_case(world: tuple[Store, Registry, Escalations]) -> None:
    store, _, escs = world
    esc, _ = escs.create({"sender_id": "web-o", "firm": {"uscc": FIRM["uscc"]}, "question": "q"})
    backup = user("gxj_b")
    assert escs.list_for(backup) == []
    with store.tx() as con:
        con.execute(
            escalations.update()
            .where(escalations.c.id == esc["id"])
            .values(due_at=datetime.now(LOCAL) - timedelta(hours=1))
        )
    listed = escs.list_for(backup)
    assert [e["id"] for e in listed] == [esc["id"]]
    assert listed[0]["sla_state"] == "overdue"


def test_auth_tokens_and_passwords(store: Store) -> None:
    Registry(store).add_liaison(LIAISONS[0])
    auth = Auth(store, ttl_s=3600)
    assert auth.login("gxj_a", "wrong") is None
    token, who = auth.login("gxj_a", "password-a")  # type: ignore[misc]
    assert who == {"username": "gxj_a", "name": "甲", "department": "市工业和信息化局"}
    assert auth.user(token) == who
    auth.logout(token)
    assert auth.user(token) is None
    expired = Auth(store, ttl_s=-1)
    old, _ = expired.login("gxj_a", "password-a")  # type: ignore[misc]
    assert expired.user(old) is None
    stored = hash_password("秘密-password")
    assert stored.startswith("$argon2id$")
    assert verify_password("秘密-password", stored)
    assert not verify_password("other", stored)


def test_sla_counts_working_hours_on_the_official_calendar() -> None:
    start = datetime(2024, 9, 30, 16, 0, tzinfo=LOCAL)  # two hours left before National Day
    assert add_working_hours(start, 4).astimezone(LOCAL) == datetime(2024, 10, 8, 11, 0, tzinfo=LOCAL)
    saturday = datetime(2024, 9, 28, 10, 0, tzinfo=LOCAL)  # next day, a Sunday, is a make-up working day
    assert add_working_hours(saturday, 4).astimezone(LOCAL) == datetime(2024, 9, 29, 13, 0, tzinfo=LOCAL)
    due = datetime(2024, 10, 8, 11, 0, tzinfo=LOCAL)
    assert sla_state(due, None, due - timedelta(minutes=30)) == "due_soon"
    assert sla_state(due, None, due + timedelta(minutes=1)) == "overdue"
    assert sla_state(due, due - timedelta(hours=1), due + timedelta(days=1)) == "met"
