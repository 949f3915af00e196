"""The editors' knowledge: source documents and versioned policy records (tables ``kb_*``).

Every save of a record is a new version (author, time); a record points at its published version and
at its draft, if any. Publishing moves the draft to published; restoring copies an old version into a
new draft. Nothing here checks a record's content: ``gateway.knowledge`` does, before it calls in.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import sqlalchemy as sa

from gateway.data.schema import kb_record_versions, kb_records, kb_sources, kb_staff_answers, utcnow
from gateway.data.store import Store

SEED_AUTHOR = "seed"  # versions loaded from knowledge/policies/*.yml, not written by an editor
SOURCE_FIELDS = ("id", "title", "doc_no", "issuer", "date", "disclosure", "cited_as", "contact")


class KnowledgeConflict(ValueError):
    """A record that exists already, or a step the record's state does not allow."""


class VersionInfo(TypedDict):
    """One version in a record's history."""

    version: int
    author: str
    created_at: str
    state: str  # published | draft | superseded
    note: str
    title: str
    status: str


def _latest_versions() -> sa.sql.Subquery:
    """Each record's newest version number (columns record_id, v)."""
    return (
        sa.select(kb_record_versions.c.record_id, sa.func.max(kb_record_versions.c.version).label("v"))
        .group_by(kb_record_versions.c.record_id)
        .subquery()
    )


def _state(version: int, row: Any) -> str:
    if row is not None and version == row.published_version:
        return "published"
    if row is not None and version == row.draft_version:
        return "draft"
    return "superseded"


class KnowledgeData:
    """Reads and writes sources, records and their versions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- sources ----------------------------------------------------------------------------------
    def sources(self, *, with_text: bool = False, source_id: str | None = None) -> list[dict[str, Any]]:
        """Every source document (or the one called ``source_id``), oldest first; ``chars`` always,
        ``text`` only when asked (the list does not read the documents)."""
        cols = [kb_sources.c[name] for name in SOURCE_FIELDS] + [
            kb_sources.c.created_by,
            kb_sources.c.created_at,
            sa.func.length(kb_sources.c.text).label("chars"),
        ]
        query = sa.select(*cols, *([kb_sources.c.text] if with_text else [])).order_by(
            kb_sources.c.created_at, kb_sources.c.id
        )
        if source_id is not None:
            query = query.where(kb_sources.c.id == source_id)
        with self.store.engine.connect() as con:
            rows = con.execute(query).all()
        return [{**row._mapping, "created_at": row.created_at.isoformat()} for row in rows]

    def source(self, source_id: str) -> dict[str, Any] | None:
        """One source with its text, or None."""
        found = self.sources(with_text=True, source_id=source_id)
        return found[0] if found else None

    def add_source(self, fields: dict[str, str], author: str, source_id: str | None = None) -> str:
        """Store a new source; its id is ``src-<year>-<n>`` unless given. Returns the id."""
        with self.store.tx() as con:
            if source_id is None:
                year = (fields.get("date") or utcnow().date().isoformat())[:4]
                taken = con.execute(
                    sa.select(sa.func.count())
                    .select_from(kb_sources)
                    .where(kb_sources.c.id.like(f"src-{year}-%"))
                ).scalar_one()
                source_id = f"src-{year}-{taken + 1:04d}"
                while con.execute(sa.select(kb_sources.c.id).where(kb_sources.c.id == source_id)).first():
                    taken += 1
                    source_id = f"src-{year}-{taken + 1:04d}"
            elif con.execute(sa.select(kb_sources.c.id).where(kb_sources.c.id == source_id)).first():
                raise KnowledgeConflict(f"source {source_id} exists")
            con.execute(
                kb_sources.insert().values(
                    id=source_id,
                    text=fields["text"],
                    created_by=author,
                    created_at=utcnow(),
                    **{k: fields.get(k) or "" for k in SOURCE_FIELDS if k != "id"},
                )
            )
        return source_id

    def update_seed_source(self, source_id: str, fields: dict[str, str]) -> bool:
        """Replace a source the seed loaded (never one an editor added). True when it changed."""
        with self.store.tx() as con:
            result = con.execute(
                kb_sources.update()
                .where(kb_sources.c.id == source_id, kb_sources.c.created_by == SEED_AUTHOR)
                .values(**{k: fields.get(k) or "" for k in (*SOURCE_FIELDS[1:], "text")})
            )
            return bool(result.rowcount)

    # -- records ----------------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """Every record with its newest version's title, section, source and status."""
        latest = _latest_versions()
        query = (
            sa.select(kb_records, kb_record_versions.c.data)
            .join(latest, latest.c.record_id == kb_records.c.id)
            .join(
                kb_record_versions,
                sa.and_(
                    kb_record_versions.c.record_id == latest.c.record_id,
                    kb_record_versions.c.version == latest.c.v,
                ),
            )
            .order_by(kb_records.c.id)
        )
        with self.store.engine.connect() as con:
            rows = con.execute(query).all()
        out = []
        for row in rows:
            data = json.loads(row.data)
            out.append(
                {
                    "id": row.id,
                    "title": data.get("title", ""),
                    "section": data.get("section", ""),
                    "source_id": data.get("source_id", ""),
                    "status": data.get("status", ""),
                    "category": data.get("category", ""),
                    "published_version": row.published_version,
                    "draft_version": row.draft_version,
                    "updated_at": row.updated_at.isoformat(),
                    "updated_by": row.updated_by,
                }
            )
        return out

    def state(self, record_id: str) -> dict[str, Any] | None:
        """``{published_version, draft_version}`` of a record, or None when there is no such record."""
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(kb_records).where(kb_records.c.id == record_id)).first()
        return None if row is None else dict(row._mapping)

    def version(self, record_id: str, version: int) -> dict[str, Any] | None:
        """One version: ``{version, author, created_at, data}``, or None."""
        with self.store.engine.connect() as con:
            row = con.execute(
                sa.select(kb_record_versions).where(
                    kb_record_versions.c.record_id == record_id, kb_record_versions.c.version == version
                )
            ).first()
        if row is None:
            return None
        return {
            "version": row.version,
            "author": row.author,
            "created_at": row.created_at.isoformat(),
            "data": json.loads(row.data),
        }

    def versions(self, record_id: str) -> list[VersionInfo]:
        """A record's history, newest first."""
        with self.store.engine.connect() as con:
            head = con.execute(sa.select(kb_records).where(kb_records.c.id == record_id)).first()
            rows = con.execute(
                sa.select(kb_record_versions)
                .where(kb_record_versions.c.record_id == record_id)
                .order_by(kb_record_versions.c.version.desc())
            ).all()
        out: list[VersionInfo] = []
        for row in rows:
            data = json.loads(row.data)
            out.append(
                VersionInfo(
                    version=row.version,
                    author=row.author,
                    created_at=row.created_at.isoformat(),
                    state=_state(row.version, head),
                    note=row.note,
                    title=data.get("title", ""),
                    status=data.get("status", ""),
                )
            )
        return out

    def save(
        self,
        record_id: str,
        data: dict[str, Any],
        author: str,
        *,
        create: bool,
        publish: bool = False,
        note: str = "",
    ) -> int:
        """Store ``data`` as the record's next version, as its draft (or, with ``publish``, published).

        Raises:
            KnowledgeConflict: ``create`` and the record exists, or not ``create`` and it does not.
        """
        now = utcnow()
        with self.store.tx() as con:
            head = con.execute(sa.select(kb_records).where(kb_records.c.id == record_id)).first()
            if create and head is not None:
                raise KnowledgeConflict(f"记录 {record_id} 已存在")
            if not create and head is None:
                raise KnowledgeConflict(f"没有记录 {record_id}")
            version = 1
            if head is not None:
                version = (
                    1
                    + con.execute(
                        sa.select(sa.func.max(kb_record_versions.c.version)).where(
                            kb_record_versions.c.record_id == record_id
                        )
                    ).scalar_one()
                )
            con.execute(
                kb_record_versions.insert().values(
                    record_id=record_id,
                    version=version,
                    data=json.dumps(data, ensure_ascii=False, sort_keys=True),
                    author=author,
                    note=note[:200],
                    created_at=now,
                    published_at=now if publish else None,
                )
            )
            values: dict[str, Any] = {"updated_by": author, "updated_at": now}
            values.update(
                {"published_version": version, "draft_version": None}
                if publish
                else {"draft_version": version}
            )
            if head is None:
                con.execute(kb_records.insert().values(id=record_id, **{"published_version": None, **values}))
            else:
                con.execute(kb_records.update().where(kb_records.c.id == record_id).values(**values))
        return version

    def publish(self, record_id: str, author: str) -> int:
        """Make the record's draft its published version. Returns the version.

        Raises:
            KnowledgeConflict: no such record, or no draft to publish.
        """
        now = utcnow()
        with self.store.tx() as con:
            head = con.execute(sa.select(kb_records).where(kb_records.c.id == record_id)).first()
            if head is None:
                raise KnowledgeConflict(f"没有记录 {record_id}")
            if head.draft_version is None:
                raise KnowledgeConflict("没有待发布的草稿")
            con.execute(
                kb_records.update()
                .where(kb_records.c.id == record_id)
                .values(
                    published_version=head.draft_version,
                    draft_version=None,
                    updated_by=author,
                    updated_at=now,
                )
            )
            con.execute(
                kb_record_versions.update()
                .where(
                    kb_record_versions.c.record_id == record_id,
                    kb_record_versions.c.version == head.draft_version,
                )
                .values(published_at=now)
            )
            return int(head.draft_version)

    def published(self) -> list[dict[str, Any]]:
        """The published version's data of every record, by record id."""
        query = (
            sa.select(kb_record_versions.c.data)
            .join(
                kb_records,
                sa.and_(
                    kb_records.c.id == kb_record_versions.c.record_id,
                    kb_records.c.published_version == kb_record_versions.c.version,
                ),
            )
            .order_by(kb_records.c.id)
        )
        with self.store.engine.connect() as con:
            return [json.loads(row.data) for row in con.execute(query).all()]

    def latest_authors(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Record id → (author, data) of its newest version (the seed only updates what no editor touched)."""
        latest = _latest_versions()
        query = sa.select(
            kb_record_versions.c.record_id, kb_record_versions.c.author, kb_record_versions.c.data
        ).join(
            latest,
            sa.and_(
                kb_record_versions.c.record_id == latest.c.record_id,
                kb_record_versions.c.version == latest.c.v,
            ),
        )
        with self.store.engine.connect() as con:
            return {row[0]: (row[1], json.loads(row[2])) for row in con.execute(query).all()}


class StaffAnswers:
    """Proposals of liaisons' replies as common answers, and the editors' review of them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _item(row: Any) -> dict[str, Any]:
        item = dict(row._mapping)
        item["questions"] = json.loads(item["questions"])
        item["record_ids"] = json.loads(item["record_ids"])
        for key in ("proposed_at", "reviewed_at", "published_at"):
            item[key] = item[key].isoformat() if item[key] is not None else None
        return item

    def propose(
        self, escalation_id: int | None, question: str, answer: str, department: str, author: str
    ) -> int:
        """Store a proposal (``pending``); returns its id."""
        with self.store.tx() as con:
            result = con.execute(
                kb_staff_answers.insert().values(
                    escalation_id=escalation_id,
                    questions=json.dumps([question], ensure_ascii=False),
                    answer=answer,
                    department=department,
                    record_ids="[]",
                    status="pending",
                    proposed_by=author,
                    proposed_at=utcnow(),
                    reason="",
                )
            )
            return int(result.inserted_primary_key[0])

    def get(self, answer_id: int) -> dict[str, Any] | None:
        """One proposal or staff answer."""
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(kb_staff_answers).where(kb_staff_answers.c.id == answer_id)).first()
        return None if row is None else self._item(row)

    def find(self, status: str | None = None) -> list[dict[str, Any]]:
        """Proposals and staff answers, newest first (of one status, or all)."""
        query = sa.select(kb_staff_answers).order_by(kb_staff_answers.c.id.desc())
        if status is not None:
            query = query.where(kb_staff_answers.c.status == status)
        with self.store.engine.connect() as con:
            return [self._item(row) for row in con.execute(query).all()]

    def _transition(self, answer_id: int, allowed: str, values: dict[str, Any]) -> dict[str, Any]:
        """Change a proposal in the state ``allowed``, atomically.

        Raises:
            KnowledgeConflict: no such proposal, or it is in another state.
        """
        with self.store.tx() as con:
            result = con.execute(
                kb_staff_answers.update()
                .where(kb_staff_answers.c.id == answer_id, kb_staff_answers.c.status == allowed)
                .values(**values)
            )
            if not result.rowcount:
                row = con.execute(
                    sa.select(kb_staff_answers.c.status).where(kb_staff_answers.c.id == answer_id)
                ).first()
                if row is None:
                    raise KnowledgeConflict(f"没有编号为 {answer_id} 的建议答复")
                raise KnowledgeConflict(f"该答复的状态是 {row[0]}，不能进行此操作")
        item = self.get(answer_id)
        assert item is not None
        return item

    def edit(self, answer_id: int, fields: dict[str, Any], editor: str) -> dict[str, Any]:
        """Edit a pending proposal: question variants, answer, department, related records, review date."""
        return self._transition(
            answer_id,
            "pending",
            {
                "questions": json.dumps(fields["questions"], ensure_ascii=False),
                "answer": fields["answer"],
                "department": fields["department"],
                "record_ids": json.dumps(fields["record_ids"], ensure_ascii=False),
                "review_by": fields["review_by"],
                "reviewed_by": editor,
                "reviewed_at": utcnow(),
            },
        )

    def publish(self, answer_id: int, editor: str) -> dict[str, Any]:
        """A pending proposal becomes a published staff answer."""
        now = utcnow()
        return self._transition(
            answer_id,
            "pending",
            {"status": "published", "reviewed_by": editor, "reviewed_at": now, "published_at": now},
        )

    def reject(self, answer_id: int, reason: str, editor: str) -> dict[str, Any]:
        """A pending proposal is turned down, with the reason."""
        return self._transition(
            answer_id,
            "pending",
            {"status": "rejected", "reason": reason, "reviewed_by": editor, "reviewed_at": utcnow()},
        )

    def withdraw(self, answer_id: int, editor: str) -> dict[str, Any]:
        """A published staff answer is no longer used."""
        return self._transition(
            answer_id, "published", {"status": "withdrawn", "reviewed_by": editor, "reviewed_at": utcnow()}
        )

    def published(self) -> list[dict[str, Any]]:
        """Every published staff answer (the index keeps those not past their review date)."""
        return self.find("published")
