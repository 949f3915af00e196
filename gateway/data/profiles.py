"""Firm profiles for 精准推送: what the registry says of a firm, overlaid by the facts its owner stated.

The registry gives a firm's 专精特新 level and industry (``firms``); an owner states more in a
conversation bound to the firm (growth, 股改, a digital project …), kept in ``firm_facts`` with when
and where each was said. The latest statement of a fact wins, and a statement beats the registry: the
owner speaks of this year, the registry of the day it was imported.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway.data.schema import conversations, firm_facts, firms, liaisons, utcnow
from gateway.data.store import Store
from huiqitong.vocabulary import FACT_LABELS, ZJTX_LEVELS
from knowledge.facts import INDUSTRY_WORDS, UNKNOWN

ORIGINS = ("registry", "conversation", "editor")
OTHER_INDUSTRY = "其他"  # a registered industry the letter's clusters do not name


class Fact(TypedDict):
    """One fact of a firm's profile, with where it comes from."""

    value: Any
    origin: str  # registry | conversation | editor
    sender_id: str | None  # the conversation it was stated in
    channel: str | None
    stated_at: str | None  # ISO time; None for the registry's own columns


class Liaison(TypedDict):
    """The firm's liaison as an owner is told of them."""

    username: str
    name: str
    department: str


class FirmProfile(TypedDict):
    """A registered firm and everything known of it."""

    uscc: str
    name: str
    level: str
    industry: str | None
    town: str | None
    liaison: Liaison | None
    facts: dict[str, Fact]


def industry_fact(industry: str | None) -> str | None:
    """The rules' industry (the letter's cluster words) for the registry's free-text industry; the
    longest word wins (小家电 before 家电), anything else is 其他."""
    text = (industry or "").strip()
    if not text:
        return None
    for word in sorted(INDUSTRY_WORDS, key=len, reverse=True):
        if word in text:
            return INDUSTRY_WORDS[word]
    return OTHER_INDUSTRY


def registry_facts(level: str | None, industry: str | None) -> dict[str, Any]:
    """The rules' facts the registry's columns give (``zjtx_level``, ``industry``)."""
    facts: dict[str, Any] = {}
    if level in ZJTX_LEVELS:
        facts["zjtx_level"] = level
    mapped = industry_fact(industry)
    if mapped is not None:
        facts["industry"] = mapped
    return facts


def clean_facts(raw: Any) -> dict[str, Any]:
    """Only the rules' facts with a real value: no other keys, no 'unknown', no None."""
    if not isinstance(raw, dict):
        return {}
    return {
        k: v
        for k, v in raw.items()
        if k in FACT_LABELS and v is not None and v != UNKNOWN and isinstance(v, (str, int, float, bool))
    }


def values(profile: FirmProfile) -> dict[str, Any]:
    """The profile as :func:`knowledge.rules.evaluate` reads it: fact name → value."""
    return {name: fact["value"] for name, fact in profile["facts"].items()}


def _profiles(con: Connection, uscc: str | None = None) -> list[FirmProfile]:
    """Every registered firm's profile (or the one with this credit code), by credit code."""
    query = (
        sa.select(
            firms.c.uscc,
            firms.c.name,
            firms.c.level,
            firms.c.industry,
            firms.c.town,
            firms.c.liaison,
            liaisons.c.name.label("liaison_name"),
            liaisons.c.department.label("liaison_department"),
        )
        .select_from(firms.outerjoin(liaisons, liaisons.c.username == firms.c.liaison))
        .order_by(firms.c.uscc)
    )
    facts_query = sa.select(firm_facts, conversations.c.channel).select_from(
        firm_facts.outerjoin(conversations, conversations.c.sender_id == firm_facts.c.sender_id)
    )
    if uscc is not None:
        query = query.where(firms.c.uscc == uscc)
        facts_query = facts_query.where(firm_facts.c.uscc == uscc)
    out: dict[str, FirmProfile] = {}
    for row in con.execute(query).all():
        liaison = (
            Liaison(username=row.liaison, name=row.liaison_name, department=row.liaison_department)
            if row.liaison and row.liaison_name
            else None
        )
        out[row.uscc] = FirmProfile(
            uscc=row.uscc,
            name=row.name,
            level=row.level,
            industry=row.industry,
            town=row.town,
            liaison=liaison,
            facts={
                name: Fact(value=value, origin="registry", sender_id=None, channel=None, stated_at=None)
                for name, value in registry_facts(row.level, row.industry).items()
            },
        )
    for row in con.execute(facts_query).all():
        profile = out.get(row.uscc)
        if profile is None:
            continue  # facts of a firm no longer registered
        profile["facts"][row.fact] = Fact(
            value=json.loads(row.value),
            origin=row.origin,
            sender_id=row.sender_id,
            channel=row.channel,
            stated_at=row.stated_at.isoformat(),
        )
    for profile in out.values():  # in the vocabulary's order, as people read them
        order = list(FACT_LABELS)
        profile["facts"] = dict(
            sorted(profile["facts"].items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
        )
    return list(out.values())


class Profiles:
    """Reads and writes firm profiles."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> list[FirmProfile]:
        """Every registered firm's profile, by credit code."""
        with self.store.engine.connect() as con:
            return _profiles(con)

    def get(self, uscc: str) -> FirmProfile | None:
        """One registered firm's profile, or None."""
        with self.store.engine.connect() as con:
            found = _profiles(con, uscc)
        return found[0] if found else None

    def bound_firm(self, sender_id: str) -> str | None:
        """The registered firm a conversation is bound to (``conversations.firm_uscc``), or None."""
        with self.store.engine.connect() as con:
            return con.execute(
                sa.select(firms.c.uscc)
                .select_from(conversations.join(firms, firms.c.uscc == conversations.c.firm_uscc))
                .where(conversations.c.sender_id == sender_id)
            ).scalar()

    def state(
        self,
        uscc: str,
        facts: dict[str, Any],
        *,
        origin: str,
        sender_id: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Keep facts of a firm; a fact stated earlier than the one kept does not replace it. Returns how
        many facts changed."""
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}")
        facts, when = clean_facts(facts), at or utcnow()
        if not facts:
            return 0

        def write() -> int:
            changed = 0
            with self.store.tx() as con:
                kept = {
                    row.fact: row.stated_at
                    for row in con.execute(
                        sa.select(firm_facts.c.fact, firm_facts.c.stated_at).where(
                            firm_facts.c.uscc == uscc, firm_facts.c.fact.in_(list(facts))
                        )
                    ).all()
                }
                for fact, value in facts.items():
                    if fact in kept and kept[fact] > when:
                        continue
                    row = {
                        "value": json.dumps(value, ensure_ascii=False),
                        "origin": origin,
                        "sender_id": sender_id,
                        "stated_at": when,
                    }
                    if fact in kept:
                        con.execute(
                            firm_facts.update()
                            .where(firm_facts.c.uscc == uscc, firm_facts.c.fact == fact)
                            .values(**row)
                        )
                    else:
                        con.execute(firm_facts.insert().values(uscc=uscc, fact=fact, **row))
                    changed += 1
            return changed

        try:
            return self.store.retry(write)
        except IntegrityError:  # the same fact inserted by a concurrent turn: it exists now, update it
            return self.store.retry(write)
