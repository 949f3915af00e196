"""Administrators' API: the audit log of staff access, read and exported (both audited)."""

from __future__ import annotations

import io
from typing import Any

from defusedcsv import csv
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gateway.schemas import MAX_ID, CSVResponse, csv_download, refusals
from gateway.services import AdminDep, ServicesDep

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=refusals(401, 403, 503))
AUDIT_COLUMNS = [
    ("id", "序号"),
    ("at", "时间"),
    ("actor", "账号"),
    ("role", "角色"),
    ("action", "操作"),
    ("target", "对象"),
    ("address", "来源地址"),
    ("detail", "说明"),
]


@router.get("/audit")
def audit_entries(
    request: Request,
    admin: AdminDep,
    services: ServicesDep,
    after: int = Query(0, ge=0, le=MAX_ID),
    limit: int = Query(200, ge=1, le=1000),
    actor: str | None = Query(None, max_length=64),
    target: str | None = Query(None, max_length=128),
) -> list[dict[str, Any]]:
    """Audit entries with id > ``after``, oldest first (page with the last id); admins only."""
    entries = services.audit.entries(after=after, limit=limit, actor=actor, target=target)
    services.audit.record(
        admin, "audit_read", target or actor or "", request, f"after {after}, {len(entries)} entries"
    )
    return entries


@router.get("/audit.csv", response_class=CSVResponse)
def export_audit(request: Request, admin: AdminDep, services: ServicesDep) -> Response:
    """The whole audit log as CSV (formula-safe cells); admins only."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in AUDIT_COLUMNS])
    after, count = 0, 0
    while batch := services.audit.entries(after=after, limit=1000):
        for entry in batch:
            writer.writerow(["" if entry[key] is None else entry[key] for key, _ in AUDIT_COLUMNS])
        after, count = batch[-1]["id"], count + len(batch)
    services.audit.record(admin, "audit_export", "audit_log", request, f"{count} entries")
    return csv_download("audit_log.csv", buf.getvalue())
