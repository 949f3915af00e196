"""Registry of firms and liaisons: validation, inserts and all-or-nothing CSV imports."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from stdnum.cn import uscc as uscc_std
from stdnum.exceptions import ValidationError

from gateway.auth import hash_password
from gateway.data.schema import conversations, firms, liaisons, wecom_chats
from gateway.data.store import Store

LEVELS = ("无", "市级", "省级", "国家级小巨人", "单项冠军培育")
LIAISON_STATUSES = ("working", "away")
ROLES = ("liaison", "editor", "admin")


class RegistryError(ValueError):
    """Bad registry input; the message says which row and field."""


def check_uscc(code: str) -> str:
    """The compact, validated 统一社会信用代码, or RegistryError saying what is wrong."""
    compact = uscc_std.compact(code or "")
    try:
        return str(uscc_std.validate(compact))
    except ValidationError as exc:
        raise RegistryError(f"invalid 统一社会信用代码 {code!r}: {exc}") from exc


def liaison_row(data: dict[str, Any]) -> dict[str, Any]:
    """A validated liaisons row from user input."""
    username = (data.get("username") or "").strip()
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise RegistryError(f"invalid username {username!r} (letters, digits, _ - . only)")
    password = data.get("password") or ""
    if len(password) < 8:
        raise RegistryError("password must have at least 8 characters")
    name = (data.get("name") or "").strip()
    department = (data.get("department") or "").strip()
    if not name or not department:
        raise RegistryError("name and department are required")
    status = (data.get("status") or "working").strip()
    if status not in LIAISON_STATUSES:
        raise RegistryError(f"status must be one of {LIAISON_STATUSES}")
    role = (data.get("role") or "liaison").strip()
    if role not in ROLES:
        raise RegistryError(f"role must be one of {ROLES}")
    return {
        "username": username,
        "password_hash": hash_password(password),
        "name": name,
        "department": department,
        "wecom_userid": (data.get("wecom_userid") or "").strip() or None,
        "status": status,
        "demo": bool(data.get("demo")),
        "role": role,
    }


def firm_row(con: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """A validated firms row; its liaisons must exist."""
    code = check_uscc(data.get("uscc") or "")
    name = (data.get("name") or "").strip()
    if not name:
        raise RegistryError("firm name is required")
    level = (data.get("level") or "无").strip()
    if level not in LEVELS:
        raise RegistryError(f"level must be one of {'/'.join(LEVELS)}, not {level!r}")
    row = {
        "uscc": code,
        "name": name,
        "level": level,
        "town": (data.get("town") or "").strip() or None,
        "industry": (data.get("industry") or "").strip() or None,
        "liaison": (data.get("liaison") or "").strip() or None,
        "backup_liaison": (data.get("backup_liaison") or data.get("backup") or "").strip() or None,
        "demo": bool(data.get("demo")),
    }
    for key in ("liaison", "backup_liaison"):
        if (
            row[key]
            and con.execute(sa.select(liaisons.c.username).where(liaisons.c.username == row[key])).first()
            is None
        ):
            raise RegistryError(f"{key} {row[key]!r} is not a registered liaison")
    return row


class Registry:
    """Firms and liaisons in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_liaison(self, data: dict[str, Any]) -> dict[str, Any]:
        """Insert (or replace) one liaison."""
        row = liaison_row(data)
        with self.store.tx() as con:
            con.execute(liaisons.delete().where(liaisons.c.username == row["username"]))
            con.execute(liaisons.insert().values(**row))
        return row

    def add_firm(self, data: dict[str, Any]) -> dict[str, Any]:
        """Insert (or replace) one firm."""
        with self.store.tx() as con:
            row = firm_row(con, data)
            con.execute(firms.delete().where(firms.c.uscc == row["uscc"]))
            con.execute(firms.insert().values(**row))
        return row

    def import_csv(self, path: Path, kind: str) -> int:
        """Import every row of a CSV, or none: errors name each bad row. Returns the row count."""
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise RegistryError(f"cannot read {path}: {exc}") from exc
        if not rows:
            raise RegistryError(f"{path}: no rows (expected a header line and data)")
        errors: list[str] = []
        with self.store.tx() as con:
            prepared = []
            for i, raw in enumerate(rows, start=2):
                try:
                    if kind == "liaisons":
                        prepared.append(liaison_row(raw))
                    else:
                        prepared.append(firm_row(con, raw))
                except RegistryError as exc:
                    errors.append(f"row {i}: {exc}")
            keys = [r["username" if kind == "liaisons" else "uscc"] for r in prepared]
            dupes = {k for k in keys if keys.count(k) > 1}
            errors += [f"duplicate key {k!r} in file" for k in sorted(dupes)]
            if errors:
                raise RegistryError("nothing imported:\n" + "\n".join(errors))
            table = liaisons if kind == "liaisons" else firms
            key_col = table.c.username if kind == "liaisons" else table.c.uscc
            con.execute(table.delete().where(key_col.in_(keys)))
            con.execute(table.insert(), prepared)
        return len(prepared)

    def firm(self, uscc: str | None = None, name: str | None = None) -> dict[str, Any] | None:
        """A registered firm by credit code or exact name."""
        if not uscc and not name:
            return None
        cond = firms.c.uscc == uscc if uscc else firms.c.name == name
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(firms).where(cond)).mappings().first()
        return dict(row) if row else None

    def liaison(self, username: str | None) -> dict[str, Any] | None:
        """A liaison by username."""
        if not username:
            return None
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(liaisons).where(liaisons.c.username == username)).mappings().first()
        return dict(row) if row else None

    def liaison_by_wecom(self, userid: str) -> dict[str, Any] | None:
        """The liaison with this WeCom userid."""
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(liaisons).where(liaisons.c.wecom_userid == userid)).mappings().first()
        return dict(row) if row else None

    def department_wecom_ids(self, department: str) -> list[str]:
        """WeCom userids of the working liaisons of a department (the shared queue's people)."""
        with self.store.engine.connect() as con:
            rows = con.execute(
                sa.select(liaisons.c.wecom_userid).where(
                    liaisons.c.department == department,
                    liaisons.c.status == "working",
                    liaisons.c.wecom_userid.isnot(None),
                )
            ).all()
        return [r[0] for r in rows if r[0]]

    def bind_wecom_chat(self, chat_id: str, code: str, webhook_key: str | None = None) -> None:
        """Bind a WeCom group chat to a registered firm (and, optionally, its group-robot webhook key)."""
        code = check_uscc(code)
        if self.firm(uscc=code) is None:
            raise RegistryError(f"firm {code} is not registered")
        if not chat_id.strip() or len(chat_id) > 128:
            raise RegistryError("chat id must be 1-128 characters")
        with self.store.tx() as con:
            con.execute(wecom_chats.delete().where(wecom_chats.c.chat_id == chat_id))
            con.execute(
                wecom_chats.insert().values(chat_id=chat_id, uscc=code, webhook_key=webhook_key or None)
            )
            con.execute(
                conversations.update()
                .where(conversations.c.sender_id == f"wecom:{chat_id}")
                .values(firm_uscc=code)
            )

    def firm_for_chat(self, chat_id: str) -> str | None:
        """The credit code bound to a WeCom chat."""
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(wecom_chats.c.uscc).where(wecom_chats.c.chat_id == chat_id)).first()
        return row[0] if row else None

    def is_empty(self) -> bool:
        """No liaison registered yet."""
        with self.store.engine.connect() as con:
            return con.execute(sa.select(sa.func.count()).select_from(liaisons)).scalar_one() == 0
