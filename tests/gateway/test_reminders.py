"""SLA reminders on real SQLite and PostgreSQL: once per stage, to the right people, durable, and
through the WeCom outbound queue (so its per-receiver limits apply)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from gateway.data.escalations import Escalations
from gateway.data.registry import Registry
from gateway.data.schema import escalations, outbound, utcnow
from gateway.data.store import Store
from gateway.reminders import send_due
from huiqitong.settings import Settings

SETTINGS = Settings(sla_working_hours=4, reminder_before_due_min=60, public_url="https://hqt.example")
PEOPLE = [
    {
        "username": "own",
        "password": "password-1",
        "name": "挂点",
        "department": "小榄镇",
        "wecom_userid": "w.own",
    },
    {
        "username": "town2",
        "password": "password-6",
        "name": "镇街二",
        "department": "小榄镇",
        "wecom_userid": "w.town2",
    },
    {
        "username": "backup",
        "password": "password-2",
        "name": "备份",
        "department": "市工业和信息化局",
        "wecom_userid": "w.backup",
    },
    {
        "username": "gxj1",
        "password": "password-3",
        "name": "工信一",
        "department": "市工业和信息化局",
        "wecom_userid": "w.gxj1",
    },
    {
        "username": "gxj2",
        "password": "password-4",
        "name": "工信二",
        "department": "市工业和信息化局",
    },  # no WeCom
    {
        "username": "away",
        "password": "password-5",
        "name": "休假",
        "department": "市工业和信息化局",
        "wecom_userid": "w.away",
        "status": "away",
    },
]
FIRM = {
    "uscc": "91442000MA4W0A1C3F",
    "name": "测试五金有限公司",
    "level": "市级",
    "liaison": "own",
    "backup_liaison": "backup",
}


def world(store: Store) -> tuple[Registry, Escalations]:
    registry = Registry(store)
    for person in PEOPLE:
        registry.add_liaison(person)
    registry.add_firm(FIRM)
    return registry, Escalations(store, registry, SETTINGS)


def due_in(store: Store, esc_id: int, minutes: float) -> None:
    with store.tx() as con:
        con.execute(
            escalations.update()
            .where(escalations.c.id == esc_id)
            .values(due_at=utcnow() + timedelta(minutes=minutes))
        )


def queued(store: Store) -> list[tuple[str, str]]:
    with store.engine.connect() as con:
        return [(r.target, r.text) for r in con.execute(sa.select(outbound).order_by(outbound.c.id)).all()]


def test_an_unclaimed_case_reminds_once_per_stage_and_widens_at_the_breach(store: Store) -> None:
    registry, escs = world(store)
    store.add_message("web-a", "user", "我们公司统一社会信用代码是91442000MA4W0A1C3F", channel="web")
    store.conversation("web-a")
    with store.tx() as con:  # the conversation's firm, as the bot would have recorded it
        con.execute(
            sa.text("UPDATE conversations SET firm_uscc = :u WHERE sender_id = 'web-a'"), {"u": FIRM["uscc"]}
        )
    case, _ = escs.create({"sender_id": "web-a", "question": "技改补贴什么时候发", "intent": "ask_digital"})
    assert case["liaison_username"] == "own"

    due_in(store, case["id"], 90)
    assert send_due(store, registry, SETTINGS, wecom=True) == []  # not yet near the deadline

    due_in(store, case["id"], 30)
    soon = send_due(store, registry, SETTINGS, wecom=True)
    assert [(r.stage, r.userids) for r in soon] == [("due_soon", ["w.own"])]
    assert send_due(store, registry, SETTINGS, wecom=True) == []  # once per stage, even when asked again
    ((target, text),) = queued(store)
    assert target == "w.own"
    assert "即将超时" in text
    assert f"工单#{case['id']}" in text
    assert "测试五金有限公司" in text
    assert f"https://hqt.example/console#esc-{case['id']}" in text

    due_in(store, case["id"], -5)
    late = send_due(store, registry, SETTINGS, wecom=True)
    assert [(r.stage, sorted(r.userids)) for r in late] == [("overdue", ["w.backup", "w.own", "w.town2"])]
    assert all("已超时" in t for _, t in queued(store)[1:])
    assert len(queued(store)) == 4
    restarted = Registry(store)  # a new process: the claims are in the database
    assert send_due(store, restarted, SETTINGS, wecom=True) == []
    events = [
        e["kind"]
        for e in escs.detail(case["id"], {"username": "own", "department": "小榄镇", "name": "挂点"})[
            "events"
        ]
    ]
    assert events == ["created", "reminded", "reminded"]


def test_claimed_answered_or_shared_queue_cases(store: Store) -> None:
    registry, escs = world(store)
    queue_case, _ = escs.create({"sender_id": "web-q", "question": "数字化转型", "intent": "ask_digital"})
    claimed, _ = escs.create({"sender_id": "web-c", "question": "人才补贴", "intent": "ask_digital"})
    escs.claim(claimed["id"], {"username": "gxj1", "department": "市工业和信息化局", "name": "工信一"})
    for esc_id in (queue_case["id"], claimed["id"]):
        due_in(store, esc_id, 10)
    sent = send_due(store, registry, SETTINGS, wecom=True)
    # A shared-queue case reminds the department's working people with WeCom; a claimed one nobody.
    assert [(r.escalation_id, r.stage, r.userids) for r in sent] == [
        (queue_case["id"], "due_soon", ["w.backup", "w.gxj1"])
    ]


def test_without_wecom_the_reminder_is_only_recorded(store: Store) -> None:
    registry, escs = world(store)
    case, _ = escs.create({"sender_id": "web-n", "question": "质量奖", "intent": "ask_digital"})
    due_in(store, case["id"], -1)
    assert [r.stage for r in send_due(store, registry, SETTINGS, wecom=False)] == ["overdue"]
    assert queued(store) == []
