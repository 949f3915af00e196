"""Escalations: routing a handoff packet to a liaison or a department queue, and the lifecycle
open → claimed → resolved (or returned to the queue), each step an event with actor and time."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway.data.registry import Registry
from gateway.data.schema import (
    PSEUDONYM_PREFIX,
    aware,
    conversations,
    escalation_events,
    escalations,
    messages,
    notes,
    utcnow,
)
from gateway.data.store import Store
from gateway.sla import add_working_hours, sla_state
from huiqitong.settings import Settings

DEFAULT_DEPARTMENT = "市工业和信息化局"
# Topic → the department the letter makes responsible, for packets that cite no policy.
INTENT_DEPARTMENTS = {
    "ask_talent_subsidy": "市人力资源和社会保障局",
    "ask_financing": "市工业和信息化局",
    "ask_eligibility": "市工业和信息化局",
    "match_policies": "市工业和信息化局",
}


class CaseSummary(TypedDict):
    """A case as the layers above read it (the packet and transcript only in ``detail``)."""

    id: int
    sender_id: str
    channel: str
    status: str
    firm_name: str | None
    firm_uscc: str | None
    question: str | None
    department: str | None
    liaison_username: str | None  # the firm's liaison when the case was routed (column ``liaison``)
    backup_username: str | None  # column ``backup_liaison``
    claimed_by: str | None
    created_at: str | None
    first_response_due: str  # column ``due_at``
    first_response_at: str | None
    resolved_at: str | None
    sla_state: str
    unread: int


@dataclass
class Arrival:
    """What the transaction that stored an owner's message also read: the conversation and its open case."""

    conversation: dict[str, Any]
    case: CaseSummary | None


class CaseListItem(TypedDict):
    """The slim summary the console's case list draws."""

    id: int
    status: str
    firm_name: str | None
    question: str | None
    claimed_by: str | None
    created_at: str | None
    first_response_due: str
    sla_state: str
    unread: int


class EscalationError(Exception):
    """A lifecycle step that is not allowed; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Route:
    """Where an escalation goes."""

    liaison: str | None
    backup: str | None
    department: str
    firm_uscc: str | None
    firm_name: str | None
    label: str


def _iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.isoformat() if value else None


PAGE_SIZE, MAX_PAGE_SIZE = 50, 200  # the console's case list: default and largest page

# The owner's messages waiting for the liaison on a case: a count correlated to the case row, so a
# list statement counts them for the rows it returns only (index messages(escalation_id, status, role)).
_UNREAD = (
    sa.select(sa.func.count())
    .select_from(messages)
    .where(
        messages.c.escalation_id == escalations.c.id,
        messages.c.role == "user",
        messages.c.status == "held",
    )
    .scalar_subquery()
    .label("unread")
)
# A case summary's columns (all but the packet, which only the detail reads) and the list's slimmer ones.
_CASE_COLUMNS = [c for c in escalations.c if c.name != "packet"] + [_UNREAD]
_OPEN_CASE = sa.select(*_CASE_COLUMNS).where(escalations.c.open_key == sa.bindparam("b_sender"))  # every turn
_LIST_COLUMNS = [
    escalations.c.id,
    escalations.c.status,
    escalations.c.firm_name,
    escalations.c.question,
    escalations.c.claimed_by,
    escalations.c.created_at,
    escalations.c.due_at,
    escalations.c.first_response_at,
    _UNREAD,
]


def visible_clause(user: Mapping[str, str], now: datetime | None = None) -> sa.sql.ColumnElement[bool]:
    """Who may see a case, the one definition (lists, and single cases through ``require``): the case
    was routed to the liaison (their firm's), they claimed it, it waits in their department's shared
    queue, or they are its backup and it is open and overdue (SLA state ``overdue`` as ``sla_state``
    computes it, at ``now``). The ``admin`` role sees what a liaison sees."""
    me = user["username"]
    now = now or utcnow()
    e = escalations.c
    overdue = sa.or_(
        sa.and_(e.first_response_at.is_(None), e.due_at < now),
        e.first_response_at > e.due_at,
    )
    return sa.or_(
        e.liaison == me,
        e.claimed_by == me,
        sa.and_(e.liaison.is_(None), e.department == user["department"]),
        sa.and_(e.backup_liaison == me, e.status == "open", overdue),
    )


def scope_clause(user: Mapping[str, str], scope: str) -> sa.sql.ColumnElement[bool]:
    """Which of the visible cases a console list shows: ``mine`` (own firms, claims and backups),
    ``queue`` (the department's shared queue, less my own claims), anything else all of them."""
    me = user["username"]
    e = escalations.c
    if scope == "mine":
        return sa.or_(e.liaison == me, e.claimed_by == me, e.backup_liaison == me)
    if scope == "queue":
        return sa.and_(e.liaison.is_(None), sa.or_(e.claimed_by.is_(None), e.claimed_by != me))
    return sa.true()


def _list_clause(
    user: Mapping[str, str], scope: str, include_resolved: bool, now: datetime
) -> sa.sql.ColumnElement[bool]:
    clause = sa.and_(visible_clause(user, now), scope_clause(user, scope))
    return clause if include_resolved else sa.and_(clause, escalations.c.status != "resolved")


class Escalations:
    """Creation, routing, visibility and lifecycle of escalations."""

    def __init__(self, store: Store, registry: Registry, settings: Settings) -> None:
        self.store, self.registry, self.settings = store, registry, settings

    # -- routing ------------------------------------------------------------------------------
    def route(self, packet: dict[str, Any]) -> Route:
        """A registered firm's own liaison; otherwise the shared queue of the responsible department."""
        firm_info = packet.get("firm") or {}
        firm = self.registry.firm(uscc=firm_info.get("uscc")) or self.registry.firm(
            name=firm_info.get("name")
        )
        if firm is None:
            conv = self.store.conversation(packet["sender_id"])
            if conv and conv.get("firm_uscc"):
                firm = self.registry.firm(uscc=conv["firm_uscc"])
        if firm is not None and firm.get("liaison"):
            liaison = self.registry.liaison(firm["liaison"])
            if liaison is not None:
                return Route(
                    liaison["username"],
                    firm.get("backup_liaison"),
                    liaison["department"],
                    firm["uscc"],
                    firm["name"],
                    f"{firm['name']}的挂点服务领导{liaison['name']}（{liaison['department']}）",
                )
        department = self.department_for(packet)
        return Route(
            None,
            None,
            department,
            firm["uscc"] if firm else firm_info.get("uscc"),
            firm["name"] if firm else firm_info.get("name"),
            f"{department}的工作人员",
        )

    @staticmethod
    def department_for(packet: dict[str, Any]) -> str:
        """The department the letter names for the cited policy, else by topic."""
        for citation in packet.get("citations") or []:
            deps = citation.get("departments") or []
            if deps:
                return str(deps[0])
        return INTENT_DEPARTMENTS.get(packet.get("intent") or "", DEFAULT_DEPARTMENT)

    # -- creation -----------------------------------------------------------------------------
    def create(self, packet: dict[str, Any]) -> tuple[CaseSummary, bool]:
        """Create the escalation for a packet, or return the conversation's open one.

        Returns:
            (escalation summary, created?)
        """
        sender = packet["sender_id"]
        existing = self.open_for(sender)
        if existing:
            return existing, False
        route = self.route(packet)
        now = utcnow()
        due = add_working_hours(
            now,
            self.settings.sla_working_hours,
            self.settings.workday_start_hour,
            self.settings.workday_end_hour,
        )
        try:
            with self.store.tx() as con:
                self.store.ensure_conversation(con, sender, packet.get("channel") or "web")
                result = con.execute(
                    escalations.insert().values(
                        sender_id=sender,
                        channel=packet.get("channel") or "web",
                        status="open",
                        open_key=sender,
                        firm_uscc=route.firm_uscc,
                        firm_name=route.firm_name,
                        question=packet.get("question") or "",
                        department=route.department,
                        liaison=route.liaison,
                        backup_liaison=route.backup,
                        packet=json.dumps(packet, ensure_ascii=False),
                        created_at=now,
                        due_at=due,
                    )
                )
                esc_id = int(result.inserted_primary_key[0])
                con.execute(
                    escalation_events.insert().values(
                        escalation_id=esc_id, kind="created", actor="bot", detail=route.label, created_at=now
                    )
                )
        except IntegrityError:
            # A concurrent handoff of the same conversation won: answer with that one.
            existing = self.open_for(sender)
            if existing is None:
                raise
            return existing, False
        created = self.get(esc_id)
        assert created is not None
        return created, True

    def receive(
        self, sender_id: str, text: str, channel: str, token_hash: str | None = None
    ) -> tuple[int, Arrival]:
        """Store an owner's message and read its conversation and open case in one transaction: one
        database round trip where a turn used to start with three. Returns the message id.

        A conversation met for the first time is created in the same transaction (a new web
        conversation with ``token_hash``, its secret's hash)."""

        def write() -> tuple[int, Arrival]:
            with self.store.tx() as con:
                conv = self.store.ensure_conversation(con, sender_id, channel, token_hash)
                message_id = self.store.insert_message(con, sender_id, "user", text, status="stored")
                return message_id, Arrival(conv, self.open_for(sender_id, con))

        return self.store.retry(write)

    def open_for(self, sender_id: str, con: Connection | None = None) -> CaseSummary | None:
        """The conversation's escalation that is not resolved, if any (read in ``con`` when given)."""
        params = {"b_sender": sender_id}
        if con is not None:
            row = con.execute(_OPEN_CASE, params).mappings().first()
        else:
            with self.store.engine.connect() as own:
                row = own.execute(_OPEN_CASE, params).mappings().first()
        return self._summary(row) if row else None

    def label(self, esc: Mapping[str, Any]) -> str:
        """Who holds an escalation, for the owner."""
        holder = self.registry.liaison(esc.get("claimed_by") or esc.get("liaison_username"))
        if holder:
            return f"{holder['name']}（{holder['department']}）"
        return f"{esc.get('department') or DEFAULT_DEPARTMENT}工作人员"

    # -- reading ------------------------------------------------------------------------------
    @staticmethod
    def _summary(row: Any) -> CaseSummary:
        """A case summary from a row of ``_CASE_COLUMNS`` (unread count included)."""
        due = aware(row["due_at"])
        assert due is not None
        return CaseSummary(
            id=row["id"],
            sender_id=row["sender_id"],
            channel=row["channel"],
            status=row["status"],
            firm_name=row["firm_name"],
            firm_uscc=row["firm_uscc"],
            question=row["question"],
            department=row["department"],
            liaison_username=row["liaison"],
            backup_username=row["backup_liaison"],
            claimed_by=row["claimed_by"],
            created_at=_iso(row["created_at"]),
            first_response_due=due.isoformat(),
            first_response_at=_iso(row["first_response_at"]),
            resolved_at=_iso(row["resolved_at"]),
            sla_state=sla_state(due, aware(row["first_response_at"]), utcnow()),
            unread=row["unread"],
        )

    @staticmethod
    def _list_item(row: Any, now: datetime) -> CaseListItem:
        """The slim summary the console's case list draws (console.js), from a ``_LIST_COLUMNS`` row."""
        due = aware(row["due_at"])
        assert due is not None
        return CaseListItem(
            id=row["id"],
            status=row["status"],
            firm_name=row["firm_name"],
            question=row["question"],
            claimed_by=row["claimed_by"],
            created_at=_iso(row["created_at"]),
            first_response_due=due.isoformat(),
            sla_state=sla_state(due, aware(row["first_response_at"]), now),
            unread=row["unread"],
        )

    def get(self, esc_id: int) -> CaseSummary | None:
        """One escalation summary."""
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(*_CASE_COLUMNS).where(escalations.c.id == esc_id)).mappings().first()
        return self._summary(row) if row else None

    def visible_to(self, esc: Mapping[str, Any], user: dict[str, str]) -> bool:
        """Whether the liaison may see this case now (``visible_clause``, evaluated in SQL)."""
        with self.store.engine.connect() as con:
            found = con.execute(
                sa.select(escalations.c.id).where(escalations.c.id == esc["id"], visible_clause(user))
            ).first()
        return found is not None

    def list_for(
        self, user: dict[str, str], scope: str = "all", include_resolved: bool = False
    ) -> list[CaseSummary]:
        """Every case the liaison may see in ``scope`` (``mine``: own firms, claims and backups;
        ``queue``: department queue; else both), newest first, full summaries, unpaged (CSV export,
        WeCom help text): one statement whatever the number of cases."""
        query = (
            sa.select(*_CASE_COLUMNS)
            .where(_list_clause(user, scope, include_resolved, utcnow()))
            .order_by(escalations.c.id.desc())
        )
        with self.store.engine.connect() as con:
            rows = con.execute(query).mappings().all()
        return [self._summary(r) for r in rows]

    def page_for(
        self, user: dict[str, str], scope: str = "all", limit: int = PAGE_SIZE, before: int | None = None
    ) -> dict[str, Any]:
        """One page of the unresolved cases the liaison may see in ``scope``, newest first (keyset on
        the id: ``before`` is the previous page's ``next``): ``{"items", "next", "total"}``, with the
        slim list summaries. Two statements whatever the number of cases: the page with each case's
        unread count (a correlated count, evaluated for the page's rows only), and the scope's total."""
        limit = max(1, min(int(limit), MAX_PAGE_SIZE))
        now = utcnow()
        where = _list_clause(user, scope, False, now)
        query = sa.select(*_LIST_COLUMNS).where(where)
        if before is not None:
            query = query.where(escalations.c.id < before)
        query = query.order_by(escalations.c.id.desc()).limit(limit + 1)
        with self.store.engine.connect() as con:
            rows = con.execute(query).mappings().all()
            total = con.execute(sa.select(sa.func.count()).select_from(escalations).where(where)).scalar_one()
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "items": [self._list_item(r, now) for r in rows],
            "next": rows[-1]["id"] if more else None,
            "total": int(total),
        }

    def detail(self, esc_id: int, user: dict[str, str]) -> dict[str, Any]:
        """Summary + packet + transcript + events + notes, for a liaison who may see it."""
        esc = self.require(esc_id, user)
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(escalations.c.packet).where(escalations.c.id == esc_id)).one()
            events = (
                con.execute(
                    sa.select(escalation_events)
                    .where(escalation_events.c.escalation_id == esc_id)
                    .order_by(escalation_events.c.id)
                )
                .mappings()
                .all()
            )
            note_rows = (
                con.execute(sa.select(notes).where(notes.c.escalation_id == esc_id).order_by(notes.c.id))
                .mappings()
                .all()
            )
        return {
            **esc,
            "packet": json.loads(row[0]),
            # A pseudonymised case (cleared or purged conversation) has no transcript left to show.
            "transcript": []
            if esc["sender_id"].startswith(PSEUDONYM_PREFIX)
            else self.store.messages_after(esc["sender_id"], 0),
            "events": [
                {
                    "kind": e["kind"],
                    "actor": e["actor"],
                    "detail": e["detail"],
                    "created_at": _iso(e["created_at"]),
                }
                for e in events
            ],
            "notes": [
                {"id": n["id"], "author": n["author"], "text": n["text"], "created_at": _iso(n["created_at"])}
                for n in note_rows
            ],
        }

    def require(self, esc_id: int, user: dict[str, str]) -> CaseSummary:
        """The escalation, or 404 when it does not exist or is not the liaison's to see (one statement:
        the case filtered by ``visible_clause``)."""
        with self.store.engine.connect() as con:
            row = (
                con.execute(sa.select(*_CASE_COLUMNS).where(escalations.c.id == esc_id, visible_clause(user)))
                .mappings()
                .first()
            )
        if row is None:
            raise EscalationError(404, "escalation not found")
        return self._summary(row)

    # -- lifecycle ----------------------------------------------------------------------------
    def _event(self, con: Any, esc_id: int, kind: str, actor: str, detail: str = "") -> None:
        con.execute(
            escalation_events.insert().values(
                escalation_id=esc_id, kind=kind, actor=actor, detail=detail, created_at=utcnow()
            )
        )

    def claim(self, esc_id: int, user: dict[str, str]) -> CaseSummary:
        """open → claimed by this liaison (atomic: two liaisons cannot both claim)."""
        esc = self.require(esc_id, user)
        if esc["status"] == "claimed" and esc["claimed_by"] == user["username"]:
            return esc
        with self.store.tx() as con:
            done = con.execute(
                escalations.update()
                .where(escalations.c.id == esc_id, escalations.c.status == "open")
                .values(status="claimed", claimed_by=user["username"])
            ).rowcount
            if not done:
                raise EscalationError(409, f"escalation is {esc['status']}, claimed by {esc['claimed_by']}")
            self._event(con, esc_id, "claimed", user["username"])
        return self.require(esc_id, user)

    def reply(
        self, esc_id: int, user: dict[str, str], text: str, deliveries: list[dict[str, str]] | None = None
    ) -> tuple[CaseSummary, int]:
        """Store the liaison's answer for the owner (claiming an open escalation first), with the
        deliveries that carry it to the owner's channel, in one transaction."""
        esc = self.require(esc_id, user)
        if esc["status"] == "open":
            esc = self.claim(esc_id, user)
        if esc["status"] != "claimed" or esc["claimed_by"] != user["username"]:
            raise EscalationError(409, f"escalation is {esc['status']} by {esc['claimed_by']}")
        with self.store.tx() as con:
            message_id = self.store.insert_message(
                con, esc["sender_id"], "liaison", text, author=user["name"], escalation_id=esc_id
            )
            self.store.queue(con, deliveries or [])
            con.execute(
                escalations.update()
                .where(escalations.c.id == esc_id, escalations.c.first_response_at.is_(None))
                .values(first_response_at=utcnow())
            )
            con.execute(
                messages.update()
                .where(messages.c.escalation_id == esc_id, messages.c.status == "held")
                .values(status="read")
            )
            self._event(con, esc_id, "replied", user["username"], text[:200])
        return self.require(esc_id, user), message_id

    def resolve(self, esc_id: int, user: dict[str, str]) -> CaseSummary:
        """claimed → resolved; frees the conversation for the bot."""
        esc = self.require(esc_id, user)
        if esc["status"] == "open":
            esc = self.claim(esc_id, user)
        if esc["status"] != "claimed" or esc["claimed_by"] != user["username"]:
            raise EscalationError(409, f"escalation is {esc['status']}")
        with self.store.tx() as con:
            con.execute(
                escalations.update()
                .where(escalations.c.id == esc_id)
                .values(status="resolved", resolved_at=utcnow(), open_key=None)
            )
            self._event(con, esc_id, "resolved", user["username"])
        resolved = self.get(esc_id)
        assert resolved is not None
        return resolved

    def return_to_queue(self, esc_id: int, user: dict[str, str]) -> CaseSummary:
        """claimed → open again, for someone else to take."""
        esc = self.require(esc_id, user)
        if esc["status"] != "claimed" or esc["claimed_by"] != user["username"]:
            raise EscalationError(409, "only the liaison who claimed it can return it")
        with self.store.tx() as con:
            con.execute(
                escalations.update().where(escalations.c.id == esc_id).values(status="open", claimed_by=None)
            )
            self._event(con, esc_id, "returned", user["username"])
        returned = self.get(esc_id)
        assert returned is not None
        return returned

    def add_note(self, esc_id: int, user: dict[str, str], text: str) -> dict[str, Any]:
        """An internal note (never shown to the owner)."""
        self.require(esc_id, user)
        with self.store.tx() as con:
            con.execute(
                notes.insert().values(
                    escalation_id=esc_id, author=user["name"], text=text, created_at=utcnow()
                )
            )
            self._event(con, esc_id, "note", user["username"])
        return self.detail(esc_id, user)

    def hold_message(self, esc_id: int, message_id: int) -> None:
        """Mark an owner's message as waiting for the liaison."""
        with self.store.tx() as con:
            con.execute(
                messages.update()
                .where(messages.c.id == message_id)
                .values(status="held", escalation_id=esc_id, outcome="liaison")
            )

    def record_event(self, sender_id: str, kind: str, actor: str, detail: str) -> CaseSummary | None:
        """An event (e.g. ``delivery_failed``) on the conversation's open case, else on its latest one;
        returns that case, or None when the conversation has none."""
        with self.store.engine.connect() as con:
            esc_id = con.execute(
                sa.select(escalations.c.id)
                .where(escalations.c.sender_id == sender_id)
                .order_by(escalations.c.open_key.is_(None), escalations.c.id.desc())
                .limit(1)
            ).scalar()
        if esc_id is None:
            return None
        with self.store.tx() as con:
            self._event(con, esc_id, kind, actor, detail[:1000])
        return self.get(esc_id)

    def set_firm(self, esc_id: int, user: dict[str, str], firm: dict[str, Any]) -> CaseSummary:
        """The liaison confirmed which firm the owner speaks for: the case and its conversation are that
        firm's (later cases go to its liaison; this one stays with whoever holds it)."""
        esc = self.require(esc_id, user)
        with self.store.tx() as con:
            con.execute(
                escalations.update()
                .where(escalations.c.id == esc_id)
                .values(firm_uscc=firm["uscc"], firm_name=firm["name"])
            )
            con.execute(
                conversations.update()
                .where(conversations.c.sender_id == esc["sender_id"])
                .values(firm_uscc=firm["uscc"])
            )
            self._event(con, esc_id, "firm_bound", user["username"], f"{firm['name']}（{firm['uscc']}）")
        return self.require(esc_id, user)
