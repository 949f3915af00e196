"""The store's schema under alembic (gateway.migrate), on SQLite and on the machine's PostgreSQL.

A database from before migrations is rebuilt from the frozen CREATE statements of ``metadata.create_all``
in tests/data/schema-<dialect>.sql, given rows, and brought to head by ``Store.create()``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.stack import POSTGRES_URL
from gateway import migrate
from gateway.data.registry import Registry
from gateway.data.store import Store
from tests.gateway.conftest import postgres_url

DATA = Path(__file__).resolve().parents[1] / "data"
AT = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)

# The tables as they were before migrations, only the columns the rows below fill (frozen here: the
# live gateway.data.schema tables will move on).
conversations = sa.table(
    "conversations",
    sa.column("sender_id"),
    sa.column("channel"),
    sa.column("needs_resume", sa.Boolean),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
messages = sa.table(
    "messages",
    sa.column("sender_id"),
    sa.column("role"),
    sa.column("text"),
    sa.column("sources"),
    sa.column("buttons"),
    sa.column("status"),
    sa.column("created_at", sa.DateTime),
)
escalations = sa.table(
    "escalations",
    sa.column("sender_id"),
    sa.column("channel"),
    sa.column("status"),
    sa.column("open_key"),
    sa.column("question"),
    sa.column("packet"),
    sa.column("created_at", sa.DateTime),
    sa.column("due_at", sa.DateTime),
)
liaisons = sa.table(
    "liaisons",
    sa.column("username"),
    sa.column("password_hash"),
    sa.column("name"),
    sa.column("department"),
    sa.column("status"),
    sa.column("demo", sa.Boolean),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a schema of its own on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    schema = f"hqt_migrate_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url(), future=True)
    with admin.begin() as con:
        con.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as con:
            con.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def create_all_snapshot(engine: sa.engine.Engine) -> None:
    """The tables and indexes as ``metadata.create_all`` made them before migrations."""
    sql = (DATA / f"schema-{engine.dialect.name}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    with engine.begin() as con:
        for statement in body.split(";"):
            if statement.strip():
                con.exec_driver_sql(statement)


def insert_rows(engine: sa.engine.Engine) -> None:
    """A conversation with two messages, its open escalation and a liaison."""
    with engine.begin() as con:
        con.execute(
            conversations.insert().values(
                sender_id="web-legacy", channel="web", needs_resume=False, created_at=AT, updated_at=AT
            )
        )
        for role, text in [("user", "高企认定有什么补贴？"), ("bot", "最高奖励30万元。")]:
            con.execute(
                messages.insert().values(
                    sender_id="web-legacy",
                    role=role,
                    text=text,
                    sources="[]",
                    buttons="[]",
                    status="processed",
                    created_at=AT,
                )
            )
        con.execute(
            escalations.insert().values(
                sender_id="web-legacy",
                channel="web",
                status="open",
                open_key="web-legacy",
                question="高企认定有什么补贴？",
                packet="{}",
                created_at=AT,
                due_at=AT,
            )
        )
        con.execute(
            liaisons.insert().values(
                username="zhang",
                password_hash="x",
                name="张联络",
                department="市工业和信息化局",
                status="working",
                demo=False,
            )
        )


def assert_at_head(store: Store) -> None:
    """alembic_version holds the newest revision and the schema is gateway.data.schema's, to the index."""
    with store.engine.connect() as con:
        assert con.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
            migrate.head()
        ]
        assert migrate.schema_diff(con) == []


def test_database_from_create_all_is_stamped_and_upgraded_with_its_rows(empty_url: str) -> None:
    engine = sa.create_engine(empty_url, future=True)
    create_all_snapshot(engine)
    insert_rows(engine)
    engine.dispose()

    store = Store(empty_url)
    store.create()

    assert_at_head(store)
    assert [m["text"] for m in store.messages_after("web-legacy")] == [
        "高企认定有什么补贴？",
        "最高奖励30万元。",
    ]
    assert (store.conversation("web-legacy") or {})["created_at"] == AT
    assert (Registry(store).liaison("zhang") or {})["role"] == "liaison"
    with store.engine.connect() as con:
        assert con.execute(sa.text("SELECT open_key, question FROM escalations")).all() == [
            ("web-legacy", "高企认定有什么补贴？")
        ]
    store.engine.dispose()


def test_database_from_an_older_release_is_completed_before_the_stamp(empty_url: str) -> None:
    """create_all() never added columns or tables to an existing store: the baseline is filled in."""
    engine = sa.create_engine(empty_url, future=True)
    create_all_snapshot(engine)
    with engine.begin() as con:
        con.execute(sa.text("DROP TABLE reminders_sent"))
        con.execute(sa.text("ALTER TABLE conversations DROP COLUMN token_hash"))
        con.execute(sa.text("ALTER TABLE liaisons DROP COLUMN role"))
    insert_rows(engine)
    engine.dispose()

    store = Store(empty_url)
    store.create()

    assert_at_head(store)
    assert (Registry(store).liaison("zhang") or {})["role"] == "liaison"  # the server default
    assert (store.conversation("web-legacy") or {})["token_hash"] is None
    store.engine.dispose()


def test_upgrade_from_empty_and_again_changes_nothing(empty_url: str) -> None:
    store = Store(empty_url)
    store.create()
    assert_at_head(store)
    with store.tx() as con:
        store.ensure_conversation(con, "web-new", "web")

    store.create()
    migrate.upgrade(empty_url)

    assert_at_head(store)
    assert (store.conversation("web-new") or {})["channel"] == "web"
    store.engine.dispose()


def test_head_matches_the_store_tables(empty_url: str) -> None:
    """Nobody changes a table in gateway.data.schema without a revision."""
    migrate.upgrade(empty_url)
    engine = sa.create_engine(empty_url, future=True)
    with engine.connect() as con:
        diff = migrate.schema_diff(con)
    engine.dispose()
    assert diff == [], (
        f'gateway.data.schema differs from the head revision: python -m gateway.migrate revision -m "..." ({diff})'
    )


def test_schema_diff_sees_a_table_changed_without_a_revision(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    engine = sa.create_engine(empty_url, future=True)
    with engine.begin() as con:
        con.execute(sa.text("DROP INDEX ix_messages_sender_id"))
        con.execute(sa.text("ALTER TABLE outbound DROP COLUMN last_error"))
    with engine.connect() as con:
        diff = migrate.schema_diff(con)
    engine.dispose()
    assert sorted(change[0] for change in diff) == ["add_column", "add_index"]


def test_the_baseline_revision_is_the_frozen_create_all_schema(empty_url: str) -> None:
    """What complete_legacy reads from revision 0001 builds the schema that create_all made."""
    engine = sa.create_engine(empty_url, future=True)
    migrate.baseline_metadata().create_all(engine)
    with engine.connect() as con:
        tables = sa.inspect(con).get_table_names()
        diff = migrate.schema_diff(con)
    engine.dispose()
    snapshot = (DATA / f"schema-{engine.dialect.name}.sql").read_text(encoding="utf-8")
    assert sorted(tables) == sorted(
        line.split()[2] for line in snapshot.splitlines() if line.startswith("CREATE TABLE")
    )
    # head is 0001 today; once later revisions change tables, this compares against them instead.
    if migrate.head() == migrate.BASELINE:
        assert diff == []


def test_a_second_migrator_waits_for_the_first(empty_url: str) -> None:
    holder = migrate._engine(sa.engine.make_url(empty_url), 30.0)
    with holder.connect() as con, ThreadPoolExecutor(1) as pool:
        con.begin()
        migrate._lock(con)
        second = pool.submit(migrate.upgrade, empty_url)
        assert not wait([second], timeout=1.0).done  # blocked on the lock
        migrate.upgrade_connection(con)
        con.commit()
        second.result(timeout=30.0)  # then finds the work done
    holder.dispose()
    store = Store(empty_url)
    assert_at_head(store)
    store.engine.dispose()


def test_processes_starting_together_all_succeed(empty_url: str) -> None:
    """Gateway workers and the admin CLI starting at once: each runs the upgrade, none fails."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gateway.migrate", "upgrade", empty_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    store = Store(empty_url)
    assert_at_head(store)
    store.engine.dispose()


def test_revision_helper_writes_the_next_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m gateway.migrate revision -m ...`` (here into a copy of the migrations)."""
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.SCRIPT_LOCATION, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", scripts)
    before = migrate.head()
    expected = f"{int(before) + 1:04d}"

    path = migrate.revision("nothing changes")

    assert path == scripts / "versions" / f"{expected}_nothing_changes.py"
    source = path.read_text(encoding="utf-8")
    assert f'revision = "{expected}"' in source
    assert f'down_revision = "{before}"' in source
    assert "gateway.data.schema" not in source
    url = f"sqlite:///{tmp_path / 'next.db'}"
    migrate.upgrade(url)
    assert migrate.head() == expected
    store = Store(url)
    assert_at_head(store)
    store.engine.dispose()
