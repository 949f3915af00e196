"""The console's dashboard figures (issue 16), counted by the store in SQL on SQLite and PostgreSQL.

Days are local days in China (UTC+8, no daylight saving), weeks ISO weeks (Monday first): the database
buckets each timestamp itself, through one small expression per dialect (:func:`period_start`), so a
message at 23:30 UTC counts on the next local day on both databases. Working-hours durations (first
response, resolution, lateness) are the one thing computed in Python, from the rows SQL selects,
because the official calendar (``gateway.sla``) is not in the database.

Three figures: volume (conversations and owner messages by outcome, per period and channel, with what
the retention purge removed), unanswered demand (the owner messages the bot did not answer, for the
caller to group into topics) and service (cases per department and liaison against the SLA, with the
owners' satisfaction), plus the answer ratings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal

import sqlalchemy as sa

from gateway.data.schema import (
    aware,
    conversations,
    escalations,
    messages,
    purged_counts,
    ratings,
    utcnow,
)
from gateway.data.store import Store
from gateway.sla import working_hours_between
from huiqitong.outcome import UNANSWERED

LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai: fixed, no daylight saving since 1991
LOCAL_TZ = timezone(LOCAL_OFFSET)
By = Literal["day", "week"]
# The outcomes the volume figure counts one by one (huiqitong.outcome.OUTCOMES); the rest are "others".
VOLUME_OUTCOMES = ("answer", "staff", "verdict", "not_in_letter", "out_of_scope", "handoff")
UNCLAIMED = ""  # the liaison key of a department-queue case nobody claimed
MAX_UNANSWERED_ROWS = 20000  # the newest unanswered messages a topic list reads (two periods)


@dataclass(frozen=True)
class Period:
    """Local days ``first``..``last``, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        """How many local days the period spans."""
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of the period."""
        start = datetime.combine(self.first, time(0), LOCAL_TZ).astimezone(timezone.utc)
        end = datetime.combine(self.last + timedelta(days=1), time(0), LOCAL_TZ).astimezone(timezone.utc)
        return start, end

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def period_label(start: date, by: By) -> str:
    """``2026-11-27`` for a day, ``2026-W48`` for the ISO week starting on ``start``."""
    if by == "day":
        return start.isoformat()
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def period_start(column: Any, dialect: str, by: By) -> sa.sql.ColumnElement[str]:
    """SQL for the local day (``YYYY-MM-DD``) a UTC timestamp column falls on, or the Monday of its ISO
    week. SQLite keeps UTC text and shifts it with date modifiers; PostgreSQL keeps ``timestamptz``,
    read in UTC and shifted by the fixed offset (no session time zone involved)."""
    if dialect == "postgresql":
        local = sa.func.timezone("UTC", column) + sa.literal_column("interval '8 hours'")
        if by == "week":
            local = sa.func.date_trunc("week", local)
        return sa.func.to_char(local, "YYYY-MM-DD")
    if by == "week":
        # back six days, then forward to the next Monday (itself if it is one): the week's Monday
        return sa.func.date(column, "+8 hours", "-6 days", "weekday 1")
    return sa.func.date(column, "+8 hours")


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def median(values: list[float]) -> float | None:
    """The median (the mean of the middle two for an even count); None when there are none."""
    if not values:
        return None
    ordered, mid = sorted(values), len(values) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def _iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.isoformat() if value else None


class Dashboard:
    """The dashboard's figures over a store."""

    def __init__(self, store: Store, day_start: int = 9, day_end: int = 18) -> None:
        self.store, self.day_start, self.day_end = store, day_start, day_end

    def _period(self, column: Any, by: By) -> sa.sql.ColumnElement[str]:
        return period_start(column, self.store.dialect, by)

    # -- volume ----------------------------------------------------------------------------------
    def volume(self, period: Period, by: By = "day", channel: str | None = None) -> list[dict[str, Any]]:
        """Per period and channel: conversations (distinct owners who wrote that period), owner messages
        and those messages by outcome (:data:`VOLUME_OUTCOMES`, ``others``, and ``purged``: messages the
        retention purge deleted, whose outcome is no longer known). Purged conversations and messages
        count on the day of their conversation's last activity. Rows ordered by period, then channel."""
        start, end = period.bounds()
        where = [messages.c.role == "user", messages.c.created_at >= start, messages.c.created_at < end]
        if channel is not None:
            where.append(conversations.c.channel == channel)
        owned = (
            sa.select(
                self._period(messages.c.created_at, by).label("period"),
                conversations.c.channel,
                messages.c.sender_id,
                messages.c.outcome,
            )
            .select_from(messages.join(conversations, conversations.c.sender_id == messages.c.sender_id))
            .where(*where)
            .subquery()
        )
        totals = sa.select(
            owned.c.period,
            owned.c.channel,
            sa.func.count().label("messages"),
            sa.func.count(sa.distinct(owned.c.sender_id)).label("conversations"),
        ).group_by(owned.c.period, owned.c.channel)
        by_outcome = sa.select(
            owned.c.period, owned.c.channel, owned.c.outcome, sa.func.count().label("n")
        ).group_by(owned.c.period, owned.c.channel, owned.c.outcome)
        purged = sa.select(purged_counts).where(
            purged_counts.c.day >= period.first.isoformat(), purged_counts.c.day <= period.last.isoformat()
        )
        if channel is not None:
            purged = purged.where(purged_counts.c.channel == channel)
        with self.store.engine.connect() as con:
            total_rows = con.execute(totals).all()
            outcome_rows = con.execute(by_outcome).all()
            purged_rows = con.execute(purged).mappings().all()

        rows: dict[tuple[str, str], dict[str, Any]] = {}

        def row(start_day: str, chan: str) -> dict[str, Any]:
            key = (start_day, chan)
            if key not in rows:
                rows[key] = {
                    "period": start_day,
                    "label": period_label(date.fromisoformat(start_day), by),
                    "channel": chan,
                    "conversations": 0,
                    "messages": 0,
                    **dict.fromkeys(VOLUME_OUTCOMES, 0),
                    "others": 0,
                    "purged": 0,
                }
            return rows[key]

        for start_day, chan, count, convs in total_rows:
            found = row(str(start_day), chan)
            found["messages"] += int(count)
            found["conversations"] += int(convs)
        for start_day, chan, outcome, count in outcome_rows:
            found = row(str(start_day), chan)
            found[outcome if outcome in VOLUME_OUTCOMES else "others"] += int(count)
        for purged_row in purged_rows:
            day = date.fromisoformat(purged_row["day"])
            found = row((day if by == "day" else week_start(day)).isoformat(), purged_row["channel"])
            found["conversations"] += int(purged_row["conversations"])
            found["messages"] += int(purged_row["user_messages"])
            found["purged"] += int(purged_row["user_messages"])
        return [rows[key] for key in sorted(rows)]

    def volume_totals(self, period: Period, channel: str | None = None) -> list[dict[str, Any]]:
        """Per channel over the whole period: conversations (each owner once, however many days they
        wrote) and owner messages, the retention purge's counts included; ordered by channel."""
        start, end = period.bounds()
        query = (
            sa.select(
                conversations.c.channel,
                sa.func.count(sa.distinct(messages.c.sender_id)),
                sa.func.count(),
            )
            .select_from(messages.join(conversations, conversations.c.sender_id == messages.c.sender_id))
            .where(messages.c.role == "user", messages.c.created_at >= start, messages.c.created_at < end)
            .group_by(conversations.c.channel)
        )
        purged = sa.select(
            purged_counts.c.channel,
            sa.func.sum(purged_counts.c.conversations),
            sa.func.sum(purged_counts.c.user_messages),
        ).where(
            purged_counts.c.day >= period.first.isoformat(), purged_counts.c.day <= period.last.isoformat()
        )
        if channel is not None:
            query = query.where(conversations.c.channel == channel)
            purged = purged.where(purged_counts.c.channel == channel)
        totals: dict[str, dict[str, Any]] = {}
        with self.store.engine.connect() as con:
            for rows in (
                con.execute(query).all(),
                con.execute(purged.group_by(purged_counts.c.channel)).all(),
            ):
                for chan, convs, count in rows:
                    found = totals.setdefault(chan, {"channel": chan, "conversations": 0, "messages": 0})
                    found["conversations"] += int(convs or 0)
                    found["messages"] += int(count or 0)
        return [totals[key] for key in sorted(totals)]

    # -- unanswered demand -------------------------------------------------------------------------
    def unanswered(self, period: Period, channel: str | None = None) -> list[dict[str, Any]]:
        """The owner messages of ``period`` and of the equal period before it that the bot did not
        answer (``huiqitong.outcome.UNANSWERED``), newest first: id, text, subject, created_at and
        ``current`` (True for this period, False for the previous one)."""
        start, end = period.bounds()
        before, _ = period.previous().bounds()
        query = (
            sa.select(
                messages.c.id,
                messages.c.text,
                messages.c.subject,
                messages.c.created_at,
                conversations.c.channel,
            )
            .select_from(messages.join(conversations, conversations.c.sender_id == messages.c.sender_id))
            .where(
                messages.c.role == "user",
                messages.c.outcome.in_(UNANSWERED),
                messages.c.created_at >= before,
                messages.c.created_at < end,
            )
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(MAX_UNANSWERED_ROWS)
        )
        if channel is not None:
            query = query.where(conversations.c.channel == channel)
        with self.store.engine.connect() as con:
            found = con.execute(query).mappings().all()
        out = []
        for item in found:
            created = aware(item["created_at"])
            assert created is not None
            out.append(
                {
                    "id": item["id"],
                    "text": item["text"],
                    "subject": item["subject"],
                    "channel": item["channel"],
                    "created_at": created.isoformat(),
                    "current": created >= start,
                }
            )
        return out

    # -- service ---------------------------------------------------------------------------------
    def _case_filter(self, period: Period, liaison: str | None) -> list[sa.sql.ColumnElement[bool]]:
        start, end = period.bounds()
        where = [escalations.c.created_at >= start, escalations.c.created_at < end]
        if liaison is not None:
            where.append(sa.or_(escalations.c.claimed_by == liaison, escalations.c.liaison == liaison))
        return where

    def service(
        self, period: Period, liaison: str | None = None, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Cases created in ``period`` (only those ``liaison`` claimed or is the assigned liaison of,
        when given), per department and per liaison (who claimed the case, else the firm's liaison;
        ``""`` for a queue case nobody claimed): counts, first-response and resolution times in working
        hours (median and nearest-rank p90), the share answered within the SLA among the cases whose SLA
        is decided (answered, or past due), and the owners' satisfaction (kind ``case`` ratings)."""
        now = now or utcnow()
        e = escalations.c
        holder = sa.func.coalesce(e.claimed_by, e.liaison, UNCLAIMED)
        cases = (
            sa.select(
                e.id,
                e.department,
                holder.label("holder"),
                e.created_at,
                e.due_at,
                e.first_response_at,
                e.resolved_at,
                ratings.c.value.label("satisfaction"),
            )
            .select_from(
                escalations.outerjoin(
                    ratings, sa.and_(ratings.c.escalation_id == e.id, ratings.c.kind == "case")
                )
            )
            .where(*self._case_filter(period, liaison))
            .subquery()
        )
        c = cases.c
        counted = [
            sa.func.count().label("cases"),
            sa.func.count(c.first_response_at).label("responded"),
            sa.func.count(c.resolved_at).label("resolved"),
            sa.func.sum(sa.case((c.first_response_at <= c.due_at, 1), else_=0)).label("within_sla"),
            sa.func.sum(sa.case((sa.or_(c.first_response_at.isnot(None), c.due_at < now), 1), else_=0)).label(
                "sla_decided"
            ),
            sa.func.sum(
                sa.case(
                    (
                        sa.or_(
                            c.first_response_at > c.due_at,
                            sa.and_(c.first_response_at.is_(None), c.resolved_at.is_(None), c.due_at < now),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("past_sla"),
            sa.func.avg(c.satisfaction).label("satisfaction_mean"),
            sa.func.count(c.satisfaction).label("satisfaction_count"),
        ]
        with self.store.engine.connect() as con:
            groups = {
                "department": con.execute(
                    sa.select(c.department.label("name"), *counted).group_by(c.department)
                )
                .mappings()
                .all(),
                "liaison": con.execute(sa.select(c.holder.label("name"), *counted).group_by(c.holder))
                .mappings()
                .all(),
            }
            times = con.execute(
                sa.select(c.department, c.holder, c.created_at, c.first_response_at, c.resolved_at)
            ).all()
        durations: dict[tuple[str, str], dict[str, list[float]]] = {}
        for department, holder_name, created, responded, resolved in times:
            created = aware(created)
            for key in (("department", department or ""), ("liaison", holder_name or "")):
                slot = durations.setdefault(key, {"first": [], "resolution": []})
                if responded is not None:
                    slot["first"].append(self._hours(created, aware(responded)))
                if resolved is not None:
                    slot["resolution"].append(self._hours(created, aware(resolved)))
        out = []
        for level, found in groups.items():
            for group in sorted(found, key=lambda g: (-int(g["cases"]), g["name"] or "")):
                name = group["name"] or ""
                spans = durations.get((level, name), {"first": [], "resolution": []})
                decided_n = int(group["sla_decided"] or 0)
                mean = group["satisfaction_mean"]
                out.append(
                    {
                        "level": level,
                        "name": name,
                        "cases": int(group["cases"]),
                        "responded": int(group["responded"]),
                        "resolved": int(group["resolved"]),
                        "first_response_median_h": _round(median(spans["first"])),
                        "first_response_p90_h": _round(percentile(spans["first"], 0.9)),
                        "resolution_median_h": _round(median(spans["resolution"])),
                        "resolution_p90_h": _round(percentile(spans["resolution"], 0.9)),
                        "within_sla": int(group["within_sla"] or 0),
                        "sla_decided": decided_n,
                        "within_sla_share": _round(int(group["within_sla"] or 0) / decided_n, 4)
                        if decided_n
                        else None,
                        "past_sla": int(group["past_sla"] or 0),
                        "satisfaction_mean": _round(float(mean)) if mean is not None else None,
                        "satisfaction_count": int(group["satisfaction_count"]),
                    }
                )
        return out

    def _hours(self, start: datetime | None, end: datetime | None) -> float:
        assert start is not None
        assert end is not None
        return working_hours_between(start, end, self.day_start, self.day_end)

    def past_sla(
        self, period: Period, liaison: str | None = None, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Cases created in ``period`` past their first-response SLA: answered late, or still waiting
        for a first response past due and not resolved; with how many working hours late (to the first
        response, or to now), most overdue first."""
        now = now or utcnow()
        e = escalations.c
        late = sa.or_(
            e.first_response_at > e.due_at,
            sa.and_(e.first_response_at.is_(None), e.resolved_at.is_(None), e.due_at < now),
        )
        query = (
            sa.select(
                e.id,
                e.status,
                e.channel,
                e.firm_name,
                e.department,
                e.liaison,
                e.claimed_by,
                e.created_at,
                e.due_at,
                e.first_response_at,
            )
            .where(*self._case_filter(period, liaison), late)
            .order_by(e.due_at, e.id)
        )
        with self.store.engine.connect() as con:
            found = con.execute(query).mappings().all()
        out = []
        for case in found:
            due, responded = aware(case["due_at"]), aware(case["first_response_at"])
            assert due is not None
            out.append(
                {
                    "id": case["id"],
                    "status": case["status"],
                    "channel": case["channel"],
                    "firm_name": case["firm_name"],
                    "department": case["department"],
                    "liaison": case["claimed_by"] or case["liaison"] or UNCLAIMED,
                    "created_at": _iso(case["created_at"]),
                    "due_at": due.isoformat(),
                    "first_response_at": _iso(responded),
                    "late_h": _round(self._hours(due, responded or now)),
                }
            )
        out.sort(key=lambda item: (-(item["late_h"] or 0), item["id"]))
        return out

    # -- ratings ---------------------------------------------------------------------------------
    def ratings(self, period: Period, channel: str | None = None) -> list[dict[str, Any]]:
        """Ratings given in ``period`` (by when they were first given), per kind and channel: answer
        ratings as the helpful share (value 1), case ratings as the mean of 1–5, each with its count."""
        start, end = period.bounds()
        where = [ratings.c.created_at >= start, ratings.c.created_at < end]
        if channel is not None:
            where.append(ratings.c.channel == channel)
        query = (
            sa.select(
                ratings.c.kind,
                ratings.c.channel,
                sa.func.count().label("count"),
                sa.func.sum(sa.case((ratings.c.value == 1, 1), else_=0)).label("helpful"),
                sa.func.avg(ratings.c.value).label("mean"),
            )
            .where(*where)
            .group_by(ratings.c.kind, ratings.c.channel)
            .order_by(ratings.c.kind, ratings.c.channel)
        )
        with self.store.engine.connect() as con:
            found = con.execute(query).mappings().all()
        out = []
        for group in found:
            count = int(group["count"])
            answer = group["kind"] == "answer"
            out.append(
                {
                    "kind": group["kind"],
                    "channel": group["channel"],
                    "count": count,
                    "helpful": int(group["helpful"] or 0) if answer else None,
                    "helpful_share": _round(int(group["helpful"] or 0) / count, 4) if answer else None,
                    "mean": None if answer else _round(float(group["mean"])),
                }
            )
        return out


# -- unanswered demand as topics ---------------------------------------------------------------------
def topics(
    rows: Iterable[Mapping[str, Any]],
    titles: Mapping[str, str],
    keywords: Callable[[str], list[str]],
    *,
    limit: int = 50,
    examples: int = 3,
) -> list[dict[str, Any]]:
    """Group :meth:`Dashboard.unanswered` rows into topics: the record the bot recognised (its title
    from ``titles``) when the message has one, else the message's top keyword (``keywords`` returns a
    message's keywords, best first; none → the topic ``""``, shown as 其他). Each topic: count in this
    period, count in the previous one, the change, the top keywords of its messages, up to
    ``examples`` distinct example messages of this period (newest first) and its record ids. Only
    topics asked about in this period, most asked first."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        words = keywords(row["text"])
        subject = row.get("subject")
        key = ("record", str(subject)) if subject else ("keyword", words[0] if words else "")
        group = groups.setdefault(
            key,
            {"count": 0, "previous": 0, "examples": [], "words": {}, "kind": key[0], "key": key[1]},
        )
        if not row["current"]:
            group["previous"] += 1
            continue
        group["count"] += 1
        for rank, word in enumerate(words[:3]):
            group["words"][word] = group["words"].get(word, 0) + 3 - rank
        text = str(row["text"]).strip()
        if len(group["examples"]) < examples and text not in group["examples"]:
            group["examples"].append(text)
    out = []
    for group in groups.values():
        if not group["count"]:
            continue
        ranked = sorted(group["words"].items(), key=lambda item: (-item[1], item[0]))
        record = group["key"] if group["kind"] == "record" else None
        title = titles.get(record, record) if record else (group["key"] or "其他")
        out.append(
            {
                "topic": f"{group['kind']}:{group['key']}",
                "title": title,
                "record_ids": [record] if record else [],
                "keywords": [word for word, _ in ranked[:3]],
                "count": group["count"],
                "previous": group["previous"],
                "change": group["count"] - group["previous"],
                "examples": group["examples"],
            }
        )
    out.sort(key=lambda t: (-t["count"], -t["previous"], t["topic"]))
    return out[:limit]
