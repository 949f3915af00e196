"""Build ``var/knowledge.db``: policy records plus segmented passages under an FTS5 index."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from huiqitong.settings import ROOT, Settings, get_settings
from knowledge.records import Policy, Source, load_policies, load_sources
from knowledge.segment import add_words, segmented
from knowledge.staff import StaffAnswer

# Code whose change alters what is indexed; a change here rebuilds the index like a data change.
_INDEX_CODE = ("knowledge/text.py", "knowledge/segment.py", "knowledge/build.py", "knowledge/records.py")
FTS_COLUMNS = ("title_seg", "aliases_seg", "quote_seg", "benefit_seg")
_POLICY_COLUMNS: dict[str, type] = {
    "id": str,
    "section_title": str,
    "file": str,
    "title": str,
    "section": str,
    "departments": str,
    "category": str,
    "audience": str,
    "benefit": str,
    "amounts_wan": str,
    "conditions": str,
    "status": str,
    "quote": str,
    "aliases": str,
    "source_id": str,
    "valid_from": str,
    "valid_until": str,
}


def content_hash(
    policies: list[Policy], sources: list[Source], settings: Settings, staff: list[StaffAnswer] | None = None
) -> str:
    """Hash of every input of the index: records, sources, the jieba dictionary and the indexing code.

    The same records give the same hash whether they came from the YAML seed or the editors' store.
    """
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [[p.as_dict(), p.section_title, p.source_file] for p in policies],
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
    )
    if staff:  # the seed has none: its hash stays what it was
        digest.update(
            json.dumps([a.row() for a in sorted(staff, key=lambda a: a.id)], ensure_ascii=False).encode()
        )
    ordered = sorted(sources, key=lambda s: s.id)
    digest.update(json.dumps([s.__dict__ for s in ordered], ensure_ascii=False, sort_keys=True).encode())
    for path in [*sorted(settings.jieba_dict_dir.glob("*.txt")), *(ROOT / name for name in _INDEX_CODE)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def passage_row(policy: Policy) -> dict[str, str]:
    """The searchable passage of one record: each field segmented for FTS5."""
    return {
        "policy_id": policy.id,
        "title_seg": segmented(policy.title),
        "aliases_seg": segmented(" ".join(policy.aliases)),
        "quote_seg": segmented(policy.quote),
        "benefit_seg": segmented(f"{policy.benefit_text} {policy.audience} {' '.join(policy.departments)}"),
    }


def write_index(
    db: sqlite_utils.Database,
    policies: list[Policy],
    passages: list[dict[str, str]],
    sources: list[Source] | None = None,
    staff: list[StaffAnswer] | None = None,
) -> None:
    """(Re)create the tables of an index in ``db`` from records, passages, source documents and staff answers."""
    for table in (
        "passages_vocab",
        "passages_fts",
        "passages",
        "policies",
        "sources",
        "staff_answers",
        "meta",
    ):
        db.execute(f"DROP TABLE IF EXISTS [{table}]")
    db.table("policies").create(_POLICY_COLUMNS, pk="id")
    db.table("policies").insert_all(
        (
            {
                "id": p.id,
                "section_title": p.section_title,
                "file": p.source_file,
                **{k: v for k, v in p.as_dict().items() if k != "policy_id"},
            }
            for p in policies
        ),
    )
    db.table("sources").create(dict.fromkeys(Source.__dataclass_fields__, str), pk="id")
    db.table("sources").insert_all(s.__dict__ for s in sources or [])
    db.table("staff_answers").create(
        {
            "id": int,
            "questions": str,
            "answer": str,
            "department": str,
            "published": str,
            "review_by": str,
            "record_ids": str,
        },
        pk="id",
    )
    db.table("staff_answers").insert_all(a.row() for a in staff or [])
    passages_table = db.table("passages")
    passages_table.create({"id": int, "policy_id": str, **dict.fromkeys(FTS_COLUMNS, str)}, pk="id")
    passages_table.insert_all(passages)
    passages_table.create_index(["policy_id"])
    passages_table.enable_fts(
        list(FTS_COLUMNS), fts_version="FTS5", tokenize="unicode61", create_triggers=False
    )
    passages_table.populate_fts(list(FTS_COLUMNS))
    db.execute("INSERT INTO passages_fts(passages_fts) VALUES('optimize')")
    # Document frequencies, so that search can drop terms too common to discriminate.
    db.execute("CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row')")


def index_meta(path: Path) -> dict[str, str]:
    """The ``meta`` table of a built index (empty when there is none)."""
    if not path.exists():
        return {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError:  # no meta table: an index from before, or not an index at all
        return {}
    finally:
        con.close()


@contextmanager
def index_lock(path: Path) -> Iterator[None]:
    """Serialise builders of one index (``make kb``, every gateway worker publishing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_index_file(
    path: Path,
    policies: list[Policy],
    sources: list[Source],
    *,
    origin: str,
    wanted: str,
    staff: list[StaffAnswer] | None = None,
) -> dict[str, Any]:
    """Write a complete index to a new file and move it over ``path`` in one step: a search that has the
    old file open keeps reading it, the next one opens the new file. Call under :func:`index_lock`.

    Expired records stay in the ``policies`` table (for export) but get no passage: search never
    finds them, so the bot never offers them as current.

    Returns:
        ``{"records": searchable records, "built_ms": ...}``.
    """
    started = time.perf_counter()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite_utils.Database(tmp)
    policies = sorted(policies, key=lambda p: p.id)  # the same rows whether from the seed or the store
    live = [p for p in policies if p.status != "expired"]
    add_words(alias for p in live for alias in p.aliases)  # cut as the searcher will cut them
    write_index(db, policies, [passage_row(p) for p in live], sources, staff)
    db.table("meta").insert_all(
        [
            {"key": "source_hash", "value": wanted},
            {"key": "origin", "value": origin},
            {"key": "built_at", "value": time.strftime("%Y-%m-%dT%H:%M:%S")},
            {"key": "record_count", "value": str(len(live))},
        ],
        pk="key",
    )
    db.close()
    tmp.replace(path)
    return {"records": len(live), "built_ms": round((time.perf_counter() - started) * 1000, 1)}


def build(settings: Settings | None = None, *, force: bool = False) -> bool:
    """Build the knowledge base from the YAML seed when its inputs changed.

    An index the gateway built from the editors' store (``origin`` = ``store``) is left alone unless
    ``force``: the gateway rebuilds it from the store whenever the store, the dictionary or this code
    changes, and a seed change reaches the store when the gateway starts.

    Returns:
        True when the index was (re)built, False when it was already current or managed by the store.
    """
    settings = settings or get_settings()
    path: Path = settings.kb_path
    policies, sources = load_policies(settings.policies_dir), load_sources(settings.sources_dir)
    wanted = content_hash(policies, sources, settings)
    meta = index_meta(path)
    if not force and (meta.get("source_hash") == wanted or meta.get("origin") == "store"):
        return False
    with index_lock(path):
        write_index_file(path, policies, sources, origin="seed", wanted=wanted)
    return True
