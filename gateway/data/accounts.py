"""Staff credentials and login tokens: the rows ``gateway.auth`` checks passwords and tokens against."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

import sqlalchemy as sa

from gateway.data.schema import aware, liaisons, tokens, utcnow
from gateway.data.store import Store


class Credentials(TypedDict):
    """A staff member and the hash of their password."""

    username: str
    name: str
    department: str
    password_hash: str


class StaffMember(TypedDict):
    """Who a token belongs to."""

    username: str
    name: str
    department: str


class Accounts:
    """Reads credentials, issues, resolves and revokes tokens (stored hashed, shared by every worker)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def credentials(self, username: str) -> Credentials | None:
        """The staff member called ``username`` with their password hash, or None."""
        with self.store.engine.connect() as con:
            row = con.execute(
                sa.select(
                    liaisons.c.username, liaisons.c.name, liaisons.c.department, liaisons.c.password_hash
                ).where(liaisons.c.username == username)
            ).first()
        if row is None:
            return None
        return Credentials(username=row[0], name=row[1], department=row[2], password_hash=row[3])

    def issue_token(
        self, username: str, token_hash: str, expires_at: datetime, rehash: tuple[str, str] | None = None
    ) -> None:
        """Store a new token (dropping expired ones) and, with ``rehash=(old, new)``, replace the
        password hash unless the password changed meanwhile; one transaction."""
        with self.store.tx() as con:
            if rehash is not None:
                old_hash, new_hash = rehash
                con.execute(
                    liaisons.update()
                    .where(liaisons.c.username == username, liaisons.c.password_hash == old_hash)
                    .values(password_hash=new_hash)
                )
            con.execute(tokens.delete().where(tokens.c.expires_at < utcnow()))
            con.execute(
                tokens.insert().values(token_hash=token_hash, username=username, expires_at=expires_at)
            )

    def token_owner(self, token_hash: str) -> StaffMember | None:
        """The staff member of an unexpired token, or None."""
        with self.store.engine.connect() as con:
            row = con.execute(
                sa.select(tokens.c.expires_at, liaisons.c.username, liaisons.c.name, liaisons.c.department)
                .join(liaisons, liaisons.c.username == tokens.c.username)
                .where(tokens.c.token_hash == token_hash)
            ).first()
        if row is None or (aware(row[0]) or utcnow()) < utcnow():
            return None
        return StaffMember(username=row[1], name=row[2], department=row[3])

    def revoke(self, token_hash: str) -> None:
        """End a token."""
        with self.store.tx() as con:
            con.execute(tokens.delete().where(tokens.c.token_hash == token_hash))
