"""Security through maintained libraries: defusedcsv for the CSV export, argon2-cffi for passwords
(and the rehash of older hashes at login), ``limits`` for rate limits in memory and on real Redis.

The store is real SQLite and PostgreSQL (``store`` in conftest.py); Redis is the machine's, at
127.0.0.1:6379, under keys unique to each run.
"""

from __future__ import annotations

import csv
import io
import logging
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bench.stack import REDIS_URL, ServiceMissing, free_port, require
from gateway.auth import Auth, RateLimiter, hash_password, needs_rehash, verify_password
from gateway.data.escalations import DEFAULT_DEPARTMENT
from gateway.data.registry import Registry
from gateway.data.schema import liaisons
from gateway.data.store import Store
from gateway.main import create_app
from gateway.services import Services
from huiqitong.settings import Settings

SECRET = "test-handoff-secret"
# Made by the gateway before argon2 (PBKDF2-HMAC-SHA256, 240,000 iterations).
LEGACY_PASSWORD = "旧密码-legacy"
LEGACY_HASH = (
    "pbkdf2_sha256$240000$5ca1ab1e00112233445566778899aabb$"
    "8bd1446873366f09960625c5decd8dfe59ce356d3d19fe1cb246a9363249255e"
)
# argon2id with weaker parameters than argon2-cffi's defaults (m=64 MiB, t=3, p=4).
WEAK_PASSWORD = "弱参数-weak"
WEAK_HASH = "$argon2id$v=19$m=8192,t=1,p=1$pW0sP9bv2kVQ5kluY/wzBg$Hi4i75dpjw/yoBiD25eiai4i/I2dzDY6edDtIOdfmKY"
LIAISON = {
    "username": "csv_gxj",
    "password": "csv-gxj-password",
    "name": "导出",
    "department": DEFAULT_DEPARTMENT,
}
# Every cell start OWASP's "CSV Injection" lists (= + - @ tab CR), the two more defusedcsv 3.0.0 escapes
# (| %), and what it deliberately leaves: plain numbers, and text that merely contains a trigger.
CSV_CELLS = [
    ('=HYPERLINK("http://evil.test","点我")', '\'=HYPERLINK("http://evil.test","点我")'),
    ("+1+2", "'+1+2"),
    ("-1+cmd", "'-1+cmd"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+2", "'\t=1+2"),
    ("\r=1+2", "'\r=1+2"),
    ("=cmd|' /C calc'!A0", "'=cmd\\|' /C calc'!A0"),
    ("|calc", "'\\|calc"),
    ("%0A=1+2", "'%0A=1+2"),
    ("-12.5", "-12.5"),
    ("增长30%=多少", "增长30%=多少"),
]


@pytest.fixture
def redis_url() -> str:
    """This machine's Redis, or a test failure that says so."""
    try:
        return require(REDIS_URL, "Redis", "TEST_REDIS_URL")
    except ServiceMissing as exc:
        pytest.fail(str(exc))


# -- passwords -------------------------------------------------------------------------------------
def test_new_hashes_are_argon2id_with_the_librarys_defaults() -> None:
    stored = hash_password("秘密-password")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password("秘密-password", stored)
    assert not verify_password("秘密-passworD", stored)
    assert hash_password("秘密-password") != stored  # salted
    assert not needs_rehash(stored)


def test_legacy_and_weak_hashes_still_verify_and_ask_for_a_rehash() -> None:
    assert verify_password(LEGACY_PASSWORD, LEGACY_HASH)
    assert not verify_password("wrong", LEGACY_HASH)
    assert verify_password(WEAK_PASSWORD, WEAK_HASH)
    assert not verify_password("wrong", WEAK_HASH)
    assert needs_rehash(LEGACY_HASH)
    assert needs_rehash(WEAK_HASH)
    for broken in ("", "pbkdf2_sha256$x$zz$00", "pbkdf2_sha256$1$00", "md5$abc", "$argon2id$v=19$garbage"):
        assert not verify_password("anything", broken), broken


def stored_hash(store: Store, username: str) -> str:
    with store.engine.connect() as con:
        return str(
            con.execute(
                sa.select(liaisons.c.password_hash).where(liaisons.c.username == username)
            ).scalar_one()
        )


def set_hash(store: Store, username: str, stored: str) -> None:
    with store.tx() as con:
        con.execute(liaisons.update().where(liaisons.c.username == username).values(password_hash=stored))


@pytest.mark.parametrize(
    ("password", "old"),
    [(LEGACY_PASSWORD, LEGACY_HASH), (WEAK_PASSWORD, WEAK_HASH)],
    ids=["pbkdf2", "weak-argon2"],
)
def test_login_replaces_an_outdated_hash_with_argon2id(store: Store, password: str, old: str) -> None:
    Registry(store).add_liaison({**LIAISON, "username": "old_hash"})
    set_hash(store, "old_hash", old)
    auth = Auth(store, ttl_s=3600, storage_url="")
    assert auth.login("old_hash", "wrong-password") is None
    assert stored_hash(store, "old_hash") == old  # a failed login changes nothing
    assert auth.login("old_hash", password) is not None
    fresh = stored_hash(store, "old_hash")
    assert fresh.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(password, fresh)
    assert auth.login("old_hash", password) is not None
    assert stored_hash(store, "old_hash") == fresh  # current hashes are left alone


# -- rate limits ------------------------------------------------------------------------------------
def test_memory_limiter_allows_the_limit_then_refuses_until_reset() -> None:
    limiter = RateLimiter(3, 60.0)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.blocked("a")
    assert not limiter.blocked("b")
    limiter.reset("a")
    assert not limiter.blocked("a")
    for _ in range(3):
        limiter.hit("a")
    assert limiter.blocked("a")
    assert limiter.allow("b")


def test_memory_limiter_window_moves() -> None:
    limiter = RateLimiter(2, 1.0)
    assert limiter.allow("k")
    assert limiter.allow("k")
    assert not limiter.allow("k")
    time.sleep(1.1)
    assert limiter.allow("k")


def test_memory_limiter_forgets_keys_idle_for_a_window() -> None:
    """One key per conversation: a long-running gateway must not keep (and rescan) every key it saw."""
    limiter = RateLimiter(2, 0.5)
    for i in range(1000):
        assert limiter.allow(f"conversation-{i}")
    assert len(limiter.local) == 1000
    time.sleep(0.6)
    assert limiter.allow("a later one")  # the first hit after a window sweeps the idle keys
    assert len(limiter.local) == 1
    assert not limiter.blocked("conversation-0")


def test_memory_limiters_are_per_process_so_workers_need_redis() -> None:
    worker_1, worker_2 = RateLimiter(5, 300.0, name="login"), RateLimiter(5, 300.0, name="login")
    for _ in range(5):
        worker_1.hit("u|1.2.3.4")
    assert worker_1.blocked("u|1.2.3.4")
    assert not worker_2.blocked("u|1.2.3.4")


def test_redis_limiters_share_counts_between_workers(redis_url: str) -> None:
    key = f"user-{uuid.uuid4().hex}|127.0.0.1"  # Redis outlives the test: a key of this run only
    worker_1 = RateLimiter(5, 300.0, name="login", storage_url=redis_url)
    worker_2 = RateLimiter(5, 300.0, name="login", storage_url=redis_url)
    for i in range(5):
        assert not (worker_1 if i % 2 else worker_2).blocked(key)
        (worker_1 if i % 2 else worker_2).hit(key)
    assert worker_1.blocked(key)
    assert worker_2.blocked(key)
    assert not worker_2.allow(key)
    other_name = RateLimiter(5, 300.0, name="sender", storage_url=redis_url)
    assert not other_name.blocked(key)  # own namespace
    worker_2.reset(key)  # a successful login on either worker clears both
    assert not worker_1.blocked(key)
    worker_1.reset(key)


def test_redis_limiter_allow_is_atomic_across_workers(redis_url: str) -> None:
    key = f"sender-{uuid.uuid4().hex}"
    workers = [RateLimiter(7, 60.0, name="sender", storage_url=redis_url) for _ in range(2)]
    assert sum(workers[i % 2].allow(key) for i in range(20)) == 7
    workers[0].reset(key)


def test_redis_limiter_window_moves(redis_url: str) -> None:
    key = f"window-{uuid.uuid4().hex}"
    limiter = RateLimiter(2, 1.0, name="window", storage_url=redis_url)
    assert limiter.allow(key)
    assert limiter.allow(key)
    assert not limiter.allow(key)
    time.sleep(1.1)
    assert limiter.allow(key)
    limiter.reset(key)


def test_unreachable_redis_fails_open_to_per_worker_counting(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(2, 60.0, name="down", storage_url=f"redis://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="gateway.auth"):
        assert limiter.allow("k")
        assert not limiter.blocked("k")
        assert limiter.allow("k")
        assert not limiter.allow("k")
    assert time.monotonic() - started < 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "rate-limit storage unreachable" in warnings[0]


# -- CSV export -------------------------------------------------------------------------------------
def test_csv_export_defuses_every_formula_trigger(tmp_path: Path) -> None:
    settings = Settings(
        env="development",
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        redis_url="",
        handoff_secret=SECRET,
        wecom_token="",
    )
    services = Services.build(settings)
    Registry(services.store).add_liaison(LIAISON)
    with TestClient(create_app(settings, services)) as client:
        for i, (cell, _) in enumerate(CSV_CELLS):
            packet = {"sender_id": f"csv-{i}", "question": cell, "firm": {"name": cell}}
            assert (
                client.post(
                    "/internal/handoff", json=packet, headers={"X-Handoff-Secret": SECRET}
                ).status_code
                == 200
            )
        token = client.post(
            "/api/liaison/login", json={"username": LIAISON["username"], "password": LIAISON["password"]}
        ).json()["token"]
        export = client.get("/api/escalations.csv", headers={"Authorization": f"Bearer {token}"})
    assert export.status_code == 200
    assert export.text.startswith("\ufeff工单号,")
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"), newline="")))
    by_sender = {int(r["工单号"]): r for r in rows}
    assert len(by_sender) == len(CSV_CELLS)
    got = [(by_sender[i + 1]["诉求内容"], by_sender[i + 1]["企业名称"]) for i in range(len(CSV_CELLS))]
    assert got == [(safe, safe) for _, safe in CSV_CELLS]
