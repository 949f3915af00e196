"""``python -m knowledge export``: the published knowledge, written back as the seed's YAML and sources.

The index holds what is published (the gateway builds it from the editors' store), so exporting it
lets a deployment's knowledge be reviewed in git: records go back to the file they came from (new
records to ``<source id>.yml``), sources to ``sources/<id>.txt`` with ``<id>.meta.json``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import yaml

from knowledge.records import DEFAULT_SOURCE

_ORDER = (
    "id",
    "title",
    "section",
    "departments",
    "category",
    "audience",
    "benefit",
    "conditions",
    "status",
    "valid_from",
    "valid_until",
    "source_id",
    "quote",
    "aliases",
)


def _rows(con: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    cursor = con.execute(f"SELECT * FROM [{table}]")
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]


def _record(row: dict[str, Any]) -> dict[str, Any]:
    """One index row in the seed's YAML form (optional fields only when set)."""
    amounts = json.loads(row["amounts_wan"]) if row["amounts_wan"] else []
    benefit: dict[str, Any] = {"text": row["benefit"]}
    if amounts:
        benefit["amounts_wan"] = amounts
    out: dict[str, Any] = {
        "id": row["id"],
        "title": row["title"],
        "section": row["section"],
        "departments": json.loads(row["departments"] or "[]"),
        "category": row["category"],
        "audience": row["audience"],
        "benefit": benefit,
        "conditions": json.loads(row["conditions"]) if row["conditions"] else None,
        "status": row["status"],
        "valid_from": row.get("valid_from") or None,
        "valid_until": row.get("valid_until") or None,
        "source_id": row.get("source_id") or DEFAULT_SOURCE,
        "quote": row["quote"],
        "aliases": json.loads(row["aliases"] or "[]"),
    }
    if out["source_id"] == DEFAULT_SOURCE:
        del out["source_id"]
    return {key: out[key] for key in _ORDER if key in out and out[key] not in (None, "")}


def export(index: Path, policies_dir: Path, sources_dir: Path) -> dict[str, int]:
    """Write every record and source of ``index``; returns ``{records, files, sources}``."""
    con = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        records, sources = _rows(con, "policies"), _rows(con, "sources")
    finally:
        con.close()
    files: dict[str, dict[str, Any]] = {}
    for row in records:
        name = row.get("file") or f"{row.get('source_id') or DEFAULT_SOURCE}.yml"
        doc = files.setdefault(name, {"section_title": row.get("section_title") or "", "records": []})
        doc["records"].append(_record(row))
    policies_dir.mkdir(parents=True, exist_ok=True)
    for name, doc in files.items():
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)
        (policies_dir / name).write_text(text, encoding="utf-8")
    sources_dir.mkdir(parents=True, exist_ok=True)
    for source in sources:
        meta = {k: v for k, v in source.items() if k not in ("id", "text") and v}
        meta["file"] = f"{source['id']}.txt"
        (sources_dir / f"{source['id']}.txt").write_text(source["text"], encoding="utf-8")
        (sources_dir / f"{source['id']}.meta.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return {"records": len(records), "files": len(files), "sources": len(sources)}
