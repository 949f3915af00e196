"""Build ``var/knowledge.db``: policy records plus segmented passages under an FTS5 index."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import sqlite_utils

from huiqitong.settings import ROOT, Settings, get_settings
from knowledge.records import Policy, load_policies
from knowledge.segment import segmented

# Code whose change alters what is indexed; a change here rebuilds the index like a data change.
_INDEX_CODE = ("knowledge/text.py", "knowledge/segment.py", "knowledge/build.py", "knowledge/records.py")
FTS_COLUMNS = ("title_seg", "aliases_seg", "quote_seg", "benefit_seg")


def source_hash(settings: Settings) -> str:
    """Hash of every input of the index: records, source letter, jieba dictionary, indexing code."""
    digest = hashlib.sha256()
    files = [
        *sorted(settings.policies_dir.glob("*.yml")),
        *sorted(settings.sources_dir.glob("*")),
        *sorted(settings.jieba_dict_dir.glob("*.txt")),
        *(ROOT / name for name in _INDEX_CODE),
    ]
    for path in files:
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


def write_index(db: sqlite_utils.Database, policies: list[Policy], passages: list[dict[str, str]]) -> None:
    """(Re)create the tables of an index in ``db`` from records and passages."""
    for table in ("passages_vocab", "passages_fts", "passages", "policies", "meta"):
        db.execute(f"DROP TABLE IF EXISTS [{table}]")
    db.table("policies").insert_all(
        (
            {
                "id": p.id,
                "section_title": p.section_title,
                **{k: v for k, v in p.as_dict().items() if k != "policy_id"},
            }
            for p in policies
        ),
        pk="id",
    )
    passages_table = db.table("passages")
    passages_table.insert_all(passages, pk="id")
    passages_table.create_index(["policy_id"])
    passages_table.enable_fts(
        list(FTS_COLUMNS), fts_version="FTS5", tokenize="unicode61", create_triggers=False
    )
    passages_table.populate_fts(list(FTS_COLUMNS))
    db.execute("INSERT INTO passages_fts(passages_fts) VALUES('optimize')")
    # Document frequencies, so that search can drop terms too common to discriminate.
    db.execute("CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row')")


def build(settings: Settings | None = None, *, force: bool = False) -> bool:
    """Build the knowledge base when its inputs changed.

    Returns:
        True when the index was (re)built, False when it was already current.
    """
    settings = settings or get_settings()
    wanted = source_hash(settings)
    path: Path = settings.kb_path
    if path.exists() and not force:
        current = sqlite_utils.Database(path)
        if "meta" in current.table_names():
            row = current.execute("SELECT value FROM meta WHERE key = 'source_hash'").fetchone()
            if row and row[0] == wanted:
                return False
        current.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite_utils.Database(tmp)
    policies = load_policies(settings.policies_dir)
    write_index(db, policies, [passage_row(p) for p in policies])
    db.table("meta").insert_all(
        [
            {"key": "source_hash", "value": wanted},
            {"key": "built_at", "value": time.strftime("%Y-%m-%dT%H:%M:%S")},
            {"key": "record_count", "value": str(len(policies))},
            {"key": "letter", "value": json.dumps(letter_metadata(settings), ensure_ascii=False)},
        ],
        pk="key",
    )
    db.close()
    tmp.replace(path)  # atomic: a running search never sees a half-built index
    return True


def letter_metadata(settings: Settings) -> dict[str, str]:
    """Metadata of the source letter (issuer, 文号, date, 公开方式) from ``sources/*.meta.json``."""
    meta = settings.sources_dir / "letter-2022-38.meta.json"
    return json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else {}
