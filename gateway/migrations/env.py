"""Alembic's environment for the gateway store.

Run through gateway.migrate, which opens the connection, locks the database and passes the connection
in ``config.attributes["connection"]`` inside its transaction: migrations never open their own.
"""

from __future__ import annotations

from alembic import context

from gateway.migrate import autogenerate_options


def run() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported: use gateway.migrate")
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through gateway.migrate, which locks the database first")
    context.configure(
        connection=connection,
        # SQLite alters a table by copying it: batch mode lets later revisions drop and change columns.
        render_as_batch=connection.dialect.name == "sqlite",
        **autogenerate_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


run()
