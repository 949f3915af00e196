"""Liaison authentication: argon2id password hashes, expiring bearer tokens, login rate limit.

The cryptography and the shared counting are maintained libraries' (argon2-cffi, limits over Redis);
this module decides which hash is current and where the counts live, and keeps the per-process counts
itself (see ``LocalWindow``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from gateway.data.accounts import Accounts
from gateway.data.schema import utcnow
from gateway.data.store import Store
from huiqitong.settings import get_settings

logger = logging.getLogger(__name__)
LEGACY_SCHEME = "pbkdf2_sha256"  # hashes made before argon2; verified, then replaced at the next login
_hasher = PasswordHasher()  # argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile)
_DUMMY_HASH = _hasher.hash("not a password of anyone")
T = TypeVar("T")


def hash_password(password: str) -> str:
    """A new argon2id hash of ``password`` in PHC string format (``$argon2id$v=19$m=...``)."""
    return _hasher.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Check ``password`` against a stored argon2 hash or a legacy ``pbkdf2_sha256$...`` one."""
    if stored.startswith(f"{LEGACY_SCHEME}$"):
        return _verify_legacy(password, stored)
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash that just verified should be replaced: legacy PBKDF2, or argon2 with weaker
    parameters than the current defaults."""
    if stored.startswith(f"{LEGACY_SCHEME}$"):
        return True
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_legacy(password: str, stored: str) -> bool:
    """'pbkdf2_sha256$iterations$salt$hash' as this gateway wrote them before argon2."""
    try:
        _, iterations, salt, digest = stored.split("$")
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LocalWindow:
    """This process's moving-window counts: for each key, the times of its hits in the last ``window``
    seconds; keys idle for a whole window are dropped once a window.

    Not limits' memory storage: limits 2.4 (the newest that installs beside Rasa 3.6) starts a new
    timer thread every 10 ms while there is traffic, each rescanning every key it has ever seen, and
    never forgets a key. With one key per conversation the gateway's CPU per turn grew with every
    conversation since start-up.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._sweep_at = time.monotonic() + window

    def _recent(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def test(self, key: str) -> bool:
        """Whether ``key`` has a hit left."""
        with self._lock:
            return len(self._recent(key, time.monotonic()) or ()) < self.limit

    def hit(self, key: str) -> bool:
        """Count one hit unless ``key`` is at its limit; False when it is."""
        now = time.monotonic()
        with self._lock:
            if now >= self._sweep_at:
                self._sweep_at = now + self.window
                for idle in [
                    k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window
                ]:
                    del self._hits[idle]
            hits = self._recent(key, now)
            if hits is None:
                hits = self._hits[key] = deque()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def clear(self, key: str) -> None:
        """Forget ``key``'s hits."""
        with self._lock:
            self._hits.pop(key, None)

    def __len__(self) -> int:
        return len(self._hits)


class RateLimiter:
    """At most ``limit`` hits per key in a moving ``window`` (seconds), counted by ``limits``.

    Counts live in this process's memory unless ``storage_url`` names a Redis server
    (``redis://host:port``), where every gateway worker shares them. Limiters that share a storage
    need distinct ``name`` s: the name is their key namespace.
    """

    # If Redis cannot be reached we fail open to per-process counting (the gateway's behaviour before
    # Redis): a chatbot must keep answering, and this still caps a brute force at ``limit`` per worker.
    # Redis is tried again after RETRY_S; until then no request waits on a dead connection.
    RETRY_S = 10.0
    TIMEOUT_S = 0.5  # a loopback Redis answers in well under a millisecond

    def __init__(self, limit: int, window: float, *, name: str = "default", storage_url: str = "") -> None:
        self.limit, self.window = limit, window
        self._item = RateLimitItemPerSecond(limit, max(1, math.ceil(window)), namespace=f"hqt:{name}")
        self.local = LocalWindow(limit, window)
        self._shared: MovingWindowRateLimiter | None = None
        if storage_url and not storage_url.startswith("memory://"):
            # limits 2.x strategies hold their storage by weak reference: keep it alive here.
            self._storage = storage_from_string(
                storage_url, socket_timeout=self.TIMEOUT_S, socket_connect_timeout=self.TIMEOUT_S
            )
            self._shared = MovingWindowRateLimiter(self._storage)
        self._retry_at = 0.0

    def _run(self, shared: Callable[[MovingWindowRateLimiter], T], local: Callable[[LocalWindow], T]) -> T:
        if self._shared is not None and time.monotonic() >= self._retry_at:
            try:
                return shared(self._shared)
            except RedisError as exc:
                self._retry_at = time.monotonic() + self.RETRY_S
                logger.warning(
                    "rate-limit storage unreachable (%r): counting %s per worker for %.0f s",
                    exc,
                    self._item.namespace,
                    self.RETRY_S,
                )
        return local(self.local)

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its hits (without counting one)."""
        return not self._run(lambda lim: lim.test(self._item, key), lambda own: own.test(key))

    def hit(self, key: str) -> None:
        """Count one hit (none once ``key`` is at its limit: it stays blocked until hits age out)."""
        self.allow(key)

    def allow(self, key: str) -> bool:
        """Count one hit unless ``key`` is over its limit; False when it is."""
        return self._run(lambda lim: lim.hit(self._item, key), lambda own: own.hit(key))

    def reset(self, key: str) -> None:
        """Forget ``key``'s hits (a successful login)."""
        self._run(lambda lim: lim.clear(self._item, key), lambda own: own.clear(key))


class Auth:
    """Logins and tokens over the store (tokens live in the database, so every worker sees them)."""

    def __init__(self, store: Store, ttl_s: int, storage_url: str | None = None) -> None:
        self.store, self.ttl = store, ttl_s
        self.accounts = Accounts(store)
        # Failed logins per username and client, shared by the workers through REDIS_URL when set.
        url = get_settings().redis_url if storage_url is None else storage_url
        self.limiter = RateLimiter(5, 300.0, name="login", storage_url=url)

    def login(self, username: str, password: str) -> tuple[str, dict[str, str]] | None:
        """A fresh token and the liaison, or None on bad credentials.

        A hash in an outdated format (PBKDF2, or argon2 with weaker parameters) is replaced by a
        fresh argon2id hash of the password that just verified.
        """
        row = self.accounts.credentials(username)
        if row is None:
            verify_password(
                password, _DUMMY_HASH
            )  # as slow as a real check: timing must not reveal usernames
            return None
        if not verify_password(password, row["password_hash"]):
            return None
        old_hash = row["password_hash"]
        rehash = (
            (old_hash, hash_password(password)) if needs_rehash(old_hash) else None
        )  # outside the transaction
        token = secrets.token_urlsafe(32)
        self.accounts.issue_token(
            username, _token_hash(token), utcnow() + timedelta(seconds=self.ttl), rehash
        )
        return token, {"username": row["username"], "name": row["name"], "department": row["department"]}

    def user(self, token: str) -> dict[str, str] | None:
        """The liaison a valid, unexpired token belongs to."""
        owner = self.accounts.token_owner(_token_hash(token))
        if owner is None:
            return None
        return {"username": owner["username"], "name": owner["name"], "department": owner["department"]}

    def logout(self, token: str) -> None:
        """Revoke a token."""
        self.accounts.revoke(_token_hash(token))
