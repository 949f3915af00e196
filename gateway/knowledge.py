"""Knowledge operations: the editors' sources and records, checked, versioned, published into the index.

The store (``gateway.data.knowledge``) is the truth; ``var/knowledge.db`` is built from its published
records. Publishing rebuilds the index into a new file and moves it over the old one, and every action
server reopens it within a second (``knowledge.search.default_searcher``): no restart, no retraining.
The YAML under ``knowledge/policies/`` is the seed: at start-up the gateway loads records it does not
have yet, and updates the ones no editor has touched since.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.data.knowledge import SEED_AUTHOR, SOURCE_FIELDS, KnowledgeConflict, KnowledgeData, StaffAnswers
from gateway.data.store import Store
from huiqitong.settings import Settings
from knowledge.build import content_hash, index_lock, index_meta, write_index_file
from knowledge.citations import record_citation
from knowledge.curation import QuoteAt, quote_at, record_errors
from knowledge.records import Policy, RecordError, Source, load_policies, load_sources, policy_from_dict
from knowledge.search import default_searcher
from knowledge.staff import StaffAnswer, overlap

logger = logging.getLogger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")
# A record as the console edits it (and as versions store it).
RECORD_FIELDS = (
    "id",
    "source_id",
    "title",
    "section",
    "departments",
    "category",
    "audience",
    "benefit_text",
    "amounts_wan",
    "conditions",
    "aliases",
    "status",
    "valid_from",
    "valid_until",
    "quote",
)


class RecordInvalid(ValueError):
    """A record refused, with one message per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def record_data(policy: Policy) -> dict[str, Any]:
    """A seed record in the editors' form (plus where it came from, for export)."""
    raw = policy.as_dict()
    return {
        "id": policy.id,
        "source_id": policy.source_id,
        "title": policy.title,
        "section": policy.section,
        "departments": list(policy.departments),
        "category": policy.category,
        "audience": policy.audience,
        "benefit_text": policy.benefit_text,
        "amounts_wan": raw["amounts_wan"],
        "conditions": policy.conditions,
        "aliases": list(policy.aliases),
        "status": policy.status,
        "valid_from": policy.valid_from or None,
        "valid_until": policy.valid_until or None,
        "quote": policy.quote,
        "section_title": policy.section_title,
        "file": policy.source_file,
    }


def policy_of(data: dict[str, Any]) -> Policy:
    """The index's record from the editors' form."""
    raw = {
        **data,
        "benefit": {"text": data.get("benefit_text") or "", "amounts_wan": data.get("amounts_wan") or []},
    }
    return policy_from_dict(raw, str(data.get("section_title") or ""), str(data.get("file") or ""))


def local_date(iso: str | None) -> str:
    """The date in China of a stored UTC time ('' for none)."""
    return datetime.fromisoformat(iso).astimezone(CHINA).date().isoformat() if iso else ""


def source_of(row: dict[str, Any]) -> Source:
    """A stored source as the index keeps it."""
    return Source(**{k: str(row.get(k) or "") for k in (*SOURCE_FIELDS, "text")})


class Knowledge:
    """Checks and stores editors' changes and keeps the index in step with what is published."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.data = KnowledgeData(store)
        self.staff = StaffAnswers(store)
        self.settings = settings

    def sources_by_id(self) -> dict[str, Source]:
        """Every stored source, by id."""
        return {row["id"]: source_of(row) for row in self.data.sources(with_text=True)}

    def source(self, source_id: str) -> Source | None:
        """One stored source, read alone (the live quote check runs on every pause in typing)."""
        row = self.data.source(source_id)
        return source_of(row) if row else None

    def where(self, source_id: str, quote: str) -> QuoteAt | None:
        """Where ``quote`` sits in the source (None when the source or the quote is not there)."""
        source = self.source(source_id)
        return quote_at(source.text, quote) if source else None

    def check(self, data: dict[str, Any]) -> dict[str, Any]:
        """The record in stored form, or :class:`RecordInvalid` with a message per field."""
        source = self.source(str(data.get("source_id") or ""))
        errors = record_errors(data, {source.id: source} if source else {})
        if errors:
            raise RecordInvalid(errors)
        record = {name: data.get(name) for name in RECORD_FIELDS}
        try:
            policy_of(record)
        except RecordError as exc:  # record_errors covers every field policy_from_dict reads
            raise RecordInvalid({"id": str(exc)}) from exc
        return record

    def save(self, data: dict[str, Any], author: str, *, create: bool) -> int:
        """Check and store a record as a new draft version; keeps where a seed record came from."""
        record = self.check(data)
        current = self.data.latest_authors().get(record["id"])
        if current is not None:
            record["section_title"] = current[1].get("section_title", "")
            record["file"] = current[1].get("file", "")
        return self.data.save(record["id"], record, author, create=create)

    def publish(self, record_id: str, author: str) -> tuple[int, dict[str, Any]]:
        """Publish the record's draft and rebuild the index. Returns (version, index figures)."""
        state = self.data.state(record_id)
        if state is None or state["draft_version"] is None:
            raise KnowledgeConflict("没有待发布的草稿")
        draft = self.data.version(record_id, state["draft_version"])
        assert draft is not None
        self.check(draft["data"])  # its source may have changed since it was saved
        version = self.data.publish(record_id, author)
        return version, self.rebuild()

    def restore(self, record_id: str, version: int, author: str) -> int:
        """A new draft that copies ``version``."""
        old = self.data.version(record_id, version)
        if old is None:
            raise KnowledgeConflict(f"记录 {record_id} 没有第 {version} 版")
        return self.data.save(record_id, old["data"], author, create=False, note=f"恢复自第 {version} 版")

    def staff_answers(self) -> list[StaffAnswer]:
        """Published staff answers as the index keeps them (the bot skips those past their review date)."""
        return [
            StaffAnswer(
                id=row["id"],
                questions=tuple(row["questions"]),
                answer=row["answer"],
                department=row["department"],
                published=local_date(row["published_at"]),
                review_by=row["review_by"] or "",
                record_ids=tuple(row["record_ids"]),
            )
            for row in self.staff.published()
        ]

    def check_proposal(self, fields: dict[str, Any], *, publishing: bool = False) -> None:
        """Refuse a proposal's edit field by field (:class:`RecordInvalid`)."""
        errors: dict[str, str] = {}
        questions = [q.strip() for q in fields.get("questions") or [] if q.strip()]
        if not questions:
            errors["questions"] = "至少填写一个问题"
        elif any(len(q) < 2 for q in questions):
            errors["questions"] = "每个问题至少两个字"
        if not str(fields.get("answer") or "").strip():
            errors["answer"] = "答复不能为空"
        if not str(fields.get("department") or "").strip():
            errors["department"] = "请填写答复部门"
        known = {row["id"] for row in self.data.records()}
        unknown = [r for r in fields.get("record_ids") or [] if r not in known]
        if unknown:
            errors["record_ids"] = f"没有这些条目：{'、'.join(unknown)}"
        review_by = fields.get("review_by")
        if review_by:
            try:
                if date.fromisoformat(str(review_by)) < datetime.now(CHINA).date():
                    errors["review_by"] = "复核日期不能早于今天"
            except ValueError:
                errors["review_by"] = "复核日期应为 YYYY-MM-DD"
        elif publishing:
            errors["review_by"] = "发布前请设定复核日期（过期后机器人不再使用这条答复）"
        if errors:
            raise RecordInvalid(errors)
        fields["questions"] = questions

    def publish_staff_answer(self, answer_id: int, editor: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Publish a pending proposal (it must pass the checks as stored) and rebuild the index."""
        item = self.staff.get(answer_id)
        if item is None:
            raise KnowledgeConflict(f"没有编号为 {answer_id} 的建议答复")
        self.check_proposal(dict(item), publishing=True)
        published = self.staff.publish(answer_id, editor)
        return published, self.rebuild()

    def withdraw_staff_answer(self, answer_id: int, editor: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Stop using a published staff answer and rebuild the index."""
        withdrawn = self.staff.withdraw(answer_id, editor)
        return withdrawn, self.rebuild()

    def snippets(self, query: str, limit: int = 8) -> list[dict[str, str]]:
        """快捷回复 for a liaison: staff answers that match ``query`` (loosely), then records' quotes with
        their citations, from the index the bot answers from."""
        searcher = default_searcher()
        out: list[dict[str, str]] = []
        for found in searcher.staff:
            if found.current() and max(overlap(query, v) for v in found.questions) >= 0.5:
                out.append(
                    {
                        "kind": "staff",
                        "id": str(found.id),
                        "title": found.questions[0],
                        "text": f"{found.answer}（{found.label}）",
                    }
                )
        for hit in searcher.search(query, top=limit):
            rec = searcher.get(hit.policy_id)
            if rec is not None:
                out.append(
                    {
                        "kind": "record",
                        "id": hit.policy_id,
                        "title": rec["title"],
                        "text": f"“{rec['quote']}”{record_citation(rec)}",
                    }
                )
        return out[:limit]

    def published_policies(self) -> list[Policy]:
        """What the index is built from."""
        return [policy_of(data) for data in self.data.published()]

    def rebuild(self, *, force: bool = False) -> dict[str, Any]:
        """Build the index from the published records when they (or the dictionary, or the indexing code)
        changed since the index was built. Returns ``{records, built_ms, built}``."""
        path = self.settings.kb_path
        with index_lock(path):
            policies, sources = self.published_policies(), list(self.sources_by_id().values())
            staff = self.staff_answers()
            wanted = content_hash(policies, sources, self.settings, staff)
            if not force and index_meta(path).get("source_hash") == wanted:
                return {
                    "records": len([p for p in policies if p.status != "expired"]),
                    "built_ms": 0.0,
                    "built": False,
                }
            figures = write_index_file(path, policies, sources, origin="store", wanted=wanted, staff=staff)
        logger.info("knowledge index rebuilt: %s", figures)
        return {**figures, "built": True}

    def sync(self) -> dict[str, Any]:
        """At start-up: load the seed (under the index lock, so workers starting together load it once),
        then bring the index in step with what is published."""
        with index_lock(self.settings.kb_path):
            seeded = self.seed()
        return {**seeded, **self.rebuild()}

    def seed(self) -> dict[str, int]:
        """Load the YAML seed: sources and records the store lacks, and new seed content of what no
        editor has changed. Returns counts ``{added, updated}``."""
        stored = {row["id"]: row for row in self.data.sources(with_text=True)}
        for source in load_sources(self.settings.sources_dir):
            fields = {k: v for k, v in source.__dict__.items() if k != "id"}
            if source.id not in stored:
                self.data.add_source(fields, SEED_AUTHOR, source.id)
            elif stored[source.id]["created_by"] == SEED_AUTHOR and source_of(stored[source.id]) != source:
                self.data.update_seed_source(source.id, fields)
        latest = self.data.latest_authors()
        added = updated = 0
        for policy in load_policies(self.settings.policies_dir):
            data = record_data(policy)
            if policy.id not in latest:
                self.data.save(policy.id, data, SEED_AUTHOR, create=True, publish=True)
                added += 1
            elif latest[policy.id][0] == SEED_AUTHOR and latest[policy.id][1] != data:
                self.data.save(policy.id, data, SEED_AUTHOR, create=False, publish=True, note="种子数据更新")
                updated += 1
        return {"added": added, "updated": updated}
