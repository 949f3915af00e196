"""Alembic migrations of the gateway store's schema; run by gateway.migrate (see there)."""
