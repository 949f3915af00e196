"""The gateway's store on real SQLite and on the machine's PostgreSQL, for the store-level tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.stack import POSTGRES_URL, ServiceMissing, require
from gateway.data.store import Store


def postgres_url() -> str:
    """This machine's PostgreSQL, or a test failure that says so."""
    try:
        return require(POSTGRES_URL, "PostgreSQL", "TEST_POSTGRES_URL")
    except ServiceMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on each database."""
    yield from _store(request.param, tmp_path)


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated store on PostgreSQL only (what only PostgreSQL does: NOTIFY)."""
    yield from _store("postgresql", tmp_path)


def _store(dialect: str, tmp_path: Path) -> Iterator[Store]:
    schema = f"hqt_store_{uuid.uuid4().hex[:12]}"  # own schema: parallel runs cannot collide
    admin = sa.create_engine(postgres_url()) if dialect == "postgresql" else None
    if admin is None:
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with admin.begin() as con:
            con.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    s = Store(url)
    s.create()
    yield s
    s.engine.dispose()
    if admin is not None:
        with admin.begin() as con:
            con.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
