"""One data layer: no module of the gateway outside ``gateway/data`` (and the schema migrations) runs SQL,
imports SQLAlchemy, or touches a connection or an engine."""

from __future__ import annotations

import re

from bench.stack import ROOT

DATA_LAYER = ("gateway/data/", "gateway/migrations/", "gateway/migrate.py")
SQL = re.compile(
    r"^\s*(import sqlalchemy|from sqlalchemy)"  # the toolkit itself
    r"|\.engine\b|\bcon\.execute\(|\.tx\(\)|\bsa\.(select|text|func|update|delete|insert)\b"  # its use
    r"|\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b",  # SQL in strings
    re.M,
)


def test_gateway_has_no_sql_outside_its_data_layer() -> None:
    found = []
    for path in sorted((ROOT / "gateway").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(DATA_LAYER):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SQL.search(line):
                found.append(f"{rel}:{number}: {line.strip()}")
    assert not found, "SQL outside gateway/data:\n" + "\n".join(found)
