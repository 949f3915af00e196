"""Liaison authentication: PBKDF2 password hashes, expiring bearer tokens, login rate limit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from datetime import timedelta

import sqlalchemy as sa

from gateway.store import Store, aware, liaisons, tokens, utcnow

ITERATIONS = 240_000


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """'pbkdf2_sha256$iterations$salt$hash' (PBKDF2-HMAC-SHA256, a standard KDF)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"pbkdf2_sha256${ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a stored hash."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(got.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginLimiter:
    """At most ``limit`` failed logins per key in ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its failures."""
        with self._lock:
            q = self._fails.get(key)
            now = time.monotonic()
            while q and now - q[0] > self.window:
                q.popleft()
            return bool(q) and len(q) >= self.limit

    def fail(self, key: str) -> None:
        """Count one failure."""
        with self._lock:
            self._fails.setdefault(key, deque()).append(time.monotonic())

    def reset(self, key: str) -> None:
        """Forget failures after a success."""
        with self._lock:
            self._fails.pop(key, None)


class Auth:
    """Logins and tokens over the store (tokens live in the database, so every worker sees them)."""

    def __init__(self, store: Store, ttl_s: int) -> None:
        self.store, self.ttl = store, ttl_s
        self.limiter = LoginLimiter()

    def login(self, username: str, password: str) -> tuple[str, dict[str, str]] | None:
        """A fresh token and the liaison, or None on bad credentials."""
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(liaisons).where(liaisons.c.username == username)).mappings().first()
        if row is None or not verify_password(password, row["password_hash"]):
            return None
        token = secrets.token_urlsafe(32)
        with self.store.tx() as con:
            con.execute(tokens.delete().where(tokens.c.expires_at < utcnow()))
            con.execute(tokens.insert().values(token_hash=_token_hash(token), username=username,
                                               expires_at=utcnow() + timedelta(seconds=self.ttl)))
        return token, {"username": row["username"], "name": row["name"], "department": row["department"]}

    def user(self, token: str) -> dict[str, str] | None:
        """The liaison a valid, unexpired token belongs to."""
        with self.store.engine.connect() as con:
            row = con.execute(
                sa.select(tokens.c.expires_at, liaisons.c.username, liaisons.c.name, liaisons.c.department)
                .join(liaisons, liaisons.c.username == tokens.c.username)
                .where(tokens.c.token_hash == _token_hash(token))
            ).mappings().first()
        if row is None or (aware(row["expires_at"]) or utcnow()) < utcnow():
            return None
        return {"username": row["username"], "name": row["name"], "department": row["department"]}

    def logout(self, token: str) -> None:
        """Revoke a token."""
        with self.store.tx() as con:
            con.execute(tokens.delete().where(tokens.c.token_hash == _token_hash(token)))
