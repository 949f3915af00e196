"""The audit log of staff access to owners' data: who logged in, opened, replied to, resolved or
exported which case, when and from which address.

Append-only: the gateway has no route that changes or deletes an entry, and only the ``admin``
role reads or exports it (reading and exporting are themselves logged).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import Request

from gateway.data.schema import audit_log, utcnow
from gateway.data.store import Store, StoreError

logger = logging.getLogger(__name__)


def client_address(request: Request | None) -> str:
    """The peer address of a request (the proxy's, behind one: uvicorn's --forwarded-allow-ips sets it)."""
    return request.client.host if request is not None and request.client else ""


class Audit:
    """Writes and reads the audit log."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        user: dict[str, Any] | str,
        action: str,
        target: str = "",
        request: Request | None = None,
        detail: str = "",
    ) -> None:
        """Append one entry; ``user`` is the staff member (or a username for failed logins).

        Raises:
            StoreError: the database is down; the action it records must then fail too.
        """
        actor = user if isinstance(user, str) else str(user.get("username", ""))
        role = "" if isinstance(user, str) else str(user.get("role") or "liaison")
        row = {
            "at": utcnow(),
            "actor": actor[:64],
            "role": role,
            "action": action,
            "target": target[:128],
            "address": client_address(request)[:64],
            "detail": detail[:500],
        }

        def write() -> None:
            with self.store.tx() as con:
                con.execute(audit_log.insert().values(**row))

        try:
            self.store.retry(write)
        except StoreError:
            logger.error("audit entry not written: %s", row)
            raise

    def entries(
        self, *, after: int = 0, limit: int = 200, actor: str | None = None, target: str | None = None
    ) -> list[dict[str, Any]]:
        """Entries with id > ``after``, oldest first, optionally of one actor or one target."""
        query = sa.select(audit_log).where(audit_log.c.id > after).order_by(audit_log.c.id).limit(limit)
        if actor:
            query = query.where(audit_log.c.actor == actor)
        if target:
            query = query.where(audit_log.c.target == target)
        with self.store.engine.connect() as con:
            rows = con.execute(query).mappings().all()
        return [{**dict(r), "at": r["at"].isoformat()} for r in rows]
