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


class RateLimiter:
    """At most ``limit`` hits per key in a sliding ``window`` (seconds); per process."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._hits.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its hits (without counting one)."""
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def hit(self, key: str) -> None:
        """Count one hit."""
        now = time.monotonic()
        with self._lock:
            self._recent(key, now).append(now)
            if len(self._hits) > 100_000:  # forget idle keys rather than grow without bound
                self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] <= self.window}

    def allow(self, key: str) -> bool:
        """Count one hit unless ``key`` is over its limit; False when it is."""
        if self.blocked(key):
            return False
        self.hit(key)
        return True

    def reset(self, key: str) -> None:
        """Forget ``key``'s hits (a successful login)."""
        with self._lock:
            self._hits.pop(key, None)


class Auth:
    """Logins and tokens over the store (tokens live in the database, so every worker sees them)."""

    def __init__(self, store: Store, ttl_s: int) -> None:
        self.store, self.ttl = store, ttl_s
        self.limiter = RateLimiter(5, 300.0)  # failed logins per username and client

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
