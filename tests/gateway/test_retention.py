"""Personal data kept only as long as needed: the retention purge, the owner's 清除记录, the audit log
and the admin role, on real SQLite and PostgreSQL (see conftest's ``store``)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from gateway.data import retention
from gateway.data.audit import Audit
from gateway.data.escalations import Escalations
from gateway.data.registry import Registry
from gateway.data.schema import (
    audit_log,
    conversations,
    escalation_events,
    escalations,
    messages,
    notes,
    purged_counts,
    utcnow,
)
from gateway.data.store import Store
from huiqitong.settings import Settings

SETTINGS = Settings(retention_days=180, sla_working_hours=4)
LIAISON = {"username": "gxj_r", "password": "password-r", "name": "甲", "department": "市工业和信息化局"}
GXJ = {"username": "gxj_r", "name": "甲", "department": "市工业和信息化局"}


def age(store: Store, sender_id: str, days: int) -> None:
    """Make a conversation look idle for ``days``."""
    with store.tx() as con:
        con.execute(
            conversations.update()
            .where(conversations.c.sender_id == sender_id)
            .values(updated_at=utcnow() - timedelta(days=days))
        )


def converse(store: Store, sender_id: str, *texts: str) -> None:
    for text in texts:
        store.add_message(sender_id, "user", text, channel="web")
        store.add_message(sender_id, "bot", f"答复：{text}", channel="web")


def rows(store: Store, table: sa.Table, *where: object) -> list[dict[str, object]]:
    with store.engine.connect() as con:
        return [dict(r) for r in con.execute(sa.select(table).where(*where)).mappings().all()]


def test_purge_deletes_old_conversations_keeps_counts_and_pseudonymises_their_cases(store: Store) -> None:
    registry = Registry(store)
    registry.add_liaison(LIAISON)
    escs = Escalations(store, registry, SETTINGS)
    converse(store, "web-old", "我叫张三，电话13800000000，专精特新补贴有多少")
    converse(store, "web-recent", "股改资助多少")
    converse(store, "web-old-open", "我要人工")
    closed, _ = escs.create(
        {
            "sender_id": "web-old",
            "question": "张三 13800000000 想问补贴",
            "intent": "ask_zjtx",
            "reason": "user_request",
            "firm": {"name": "张三五金店"},
        }
    )
    escs.add_note(closed["id"], GXJ, "已电话联系张三")
    escs.resolve(closed["id"], GXJ)
    still_open, _ = escs.create({"sender_id": "web-old-open", "question": "还没处理"})
    for sender in ("web-old", "web-old-open"):
        age(store, sender, 200)
    age(store, "web-recent", 100)

    report = retention.purge(store, SETTINGS)

    assert (report.conversations, report.messages, report.escalations_pseudonymised) == (1, 2, 1)
    assert rows(store, messages, messages.c.sender_id == "web-old") == []
    assert rows(store, conversations, conversations.c.sender_id == "web-old") == []
    assert len(rows(store, messages, messages.c.sender_id == "web-recent")) == 2  # within 180 days
    assert len(rows(store, messages, messages.c.sender_id == "web-old-open")) == 2  # its case is still open
    case = rows(store, escalations, escalations.c.id == closed["id"])[0]
    assert case["sender_id"] == f"purged:{closed['id']}"
    assert case["question"] == ""
    assert case["firm_name"] is None
    assert json.loads(str(case["packet"])) == {"intent": "ask_zjtx", "reason": "user_request"}
    assert (case["status"], case["department"]) == ("resolved", "市工业和信息化局")  # what statistics count
    assert rows(store, notes, notes.c.escalation_id == closed["id"]) == []
    assert {
        e["detail"] for e in rows(store, escalation_events, escalation_events.c.escalation_id == closed["id"])
    } == {""}
    assert rows(store, escalations, escalations.c.id == still_open["id"])[0]["question"] == "还没处理"
    counts = rows(store, purged_counts)
    assert [(c["channel"], c["conversations"], c["user_messages"], c["bot_messages"]) for c in counts] == [
        ("web", 1, 1, 1)
    ]
    assert "张三" not in json.dumps(
        [rows(store, t) for t in (messages, escalations, notes)], default=str, ensure_ascii=False
    )

    again = retention.purge(store, SETTINGS)  # idempotent: nothing left to purge
    assert (again.conversations, again.messages, again.escalations_pseudonymised) == (0, 0, 0)


def test_forget_deletes_the_conversation_and_withdraws_its_open_case(store: Store) -> None:
    registry = Registry(store)
    registry.add_liaison(LIAISON)
    escs = Escalations(store, registry, SETTINGS)
    converse(store, "web-mine", "我们公司统一社会信用代码是91442000MA4W0A1C3F", "转人工")
    converse(store, "web-other", "别人的对话")
    case, _ = escs.create({"sender_id": "web-mine", "question": "转人工"})

    assert retention.forget(store, "web-mine") == 4

    assert store.conversation("web-mine") is None
    assert store.messages_after("web-mine") == []
    assert len(store.messages_after("web-other")) == 2
    withdrawn = rows(store, escalations, escalations.c.id == case["id"])[0]
    assert (withdrawn["status"], withdrawn["open_key"], withdrawn["sender_id"]) == (
        "resolved",
        None,
        f"purged:{case['id']}",
    )
    assert [
        e["kind"] for e in rows(store, escalation_events, escalation_events.c.escalation_id == case["id"])
    ] == ["created", "cleared"]
    assert escs.open_for("web-mine") is None


def test_audit_log_is_append_only_and_filters(store: Store) -> None:
    audit = Audit(store)
    audit.record({"username": "gxj_r", "role": "liaison"}, "open", "escalation:7")
    audit.record("nobody", "login_failed")
    audit.record({"username": "boss", "role": "admin"}, "audit_read")
    entries = audit.entries()
    assert [(e["actor"], e["role"], e["action"], e["target"]) for e in entries] == [
        ("gxj_r", "liaison", "open", "escalation:7"),
        ("nobody", "", "login_failed", ""),
        ("boss", "admin", "audit_read", ""),
    ]
    assert [e["actor"] for e in audit.entries(after=entries[0]["id"])] == ["nobody", "boss"]
    assert [e["action"] for e in audit.entries(target="escalation:7")] == ["open"]
    retention.purge(store, SETTINGS)
    assert len(rows(store, audit_log)) == 3  # the purge keeps the audit trail


def test_admin_role_is_validated_and_stored(store: Store) -> None:
    registry = Registry(store)
    registry.add_liaison({**LIAISON, "username": "boss", "role": "admin"})
    registry.add_liaison(LIAISON)
    assert (registry.liaison("boss") or {})["role"] == "admin"
    assert (registry.liaison("gxj_r") or {})["role"] == "liaison"
    with pytest.raises(ValueError, match="role must be one of"):
        registry.add_liaison({**LIAISON, "role": "root"})


def test_a_store_from_an_earlier_release_gains_the_new_columns(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    with engine.begin() as con:  # the liaisons and conversations tables as an earlier release created them
        con.execute(
            sa.text(
                "CREATE TABLE liaisons (username VARCHAR(64) PRIMARY KEY, password_hash VARCHAR(256) NOT NULL,"
                " name VARCHAR(64) NOT NULL, department VARCHAR(64) NOT NULL, wecom_userid VARCHAR(64),"
                " status VARCHAR(16) NOT NULL, demo BOOLEAN NOT NULL)"
            )
        )
        con.execute(
            sa.text("INSERT INTO liaisons VALUES ('old', 'x', '旧', '市工业和信息化局', NULL, 'working', 0)")
        )
        con.execute(
            sa.text(
                "CREATE TABLE conversations (sender_id VARCHAR(128) PRIMARY KEY, channel VARCHAR(32) NOT NULL,"
                " firm_uscc VARCHAR(18), needs_resume BOOLEAN NOT NULL, reply_url TEXT,"
                " reply_url_at DATETIME, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)"
            )
        )
    engine.dispose()
    store = Store(url)
    store.create()
    assert (Registry(store).liaison("old") or {})["role"] == "liaison"
    assert store.conversation("nobody") is None
    with store.tx() as con:
        store.ensure_conversation(con, "web-x", "web", "ab" * 32)
    assert (store.conversation("web-x") or {})["token_hash"] == "ab" * 32
