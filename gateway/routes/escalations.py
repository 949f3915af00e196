"""Liaison console API: queues, cases, claim / reply / resolve / return, notes, CSV export."""

from __future__ import annotations

import io
from typing import Any

from defusedcsv import csv  # the stdlib module, with cells that start with = + - @ | % escaped
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictStr

from gateway.conversation import resolve_and_resume
from gateway.data.escalations import MAX_PAGE_SIZE, PAGE_SIZE, EscalationError
from gateway.data.registry import RegistryError, check_uscc
from gateway.data.wecom import KfState
from gateway.routes.knowledge import ProposalOut
from gateway.schemas import MAX_ID, ApiModel, CaseId, CSVResponse, TextIn, csv_download, refusals
from gateway.services import ServicesDep, UserDep
from gateway.wecom.kf_ids import parse_sender

router = APIRouter(prefix="/api", tags=["escalations"], responses=refusals(400, 401, 403, 404, 409, 503))
CSV_COLUMNS = [
    ("id", "工单号"),
    ("firm_name", "企业名称"),
    ("firm_uscc", "统一社会信用代码"),
    ("channel", "渠道"),
    ("question", "诉求内容"),
    ("department", "承办部门"),
    ("liaison_username", "挂点领导"),
    ("claimed_by", "受理人"),
    ("status", "状态"),
    ("created_at", "提交时间"),
    ("first_response_due", "首次响应时限"),
    ("first_response_at", "首次响应时间"),
    ("resolved_at", "办结时间"),
    ("sla_state", "时限状态"),
]


def _fail(exc: EscalationError) -> HTTPException:
    return HTTPException(exc.status, str(exc))


class CaseSummary(ApiModel):
    """A case as the console's list draws it (the full case is ``GET /api/escalations/{id}``)."""

    id: int
    status: str = Field(..., description="open | claimed")
    firm_name: str | None
    question: str
    claimed_by: str | None
    created_at: str = Field(..., description="ISO 8601")
    first_response_due: str = Field(..., description="ISO 8601")
    sla_state: str = Field(..., description="ok | due_soon | overdue | met")
    unread: int = Field(..., description="the owner's messages waiting for the liaison")


class CasePage(ApiModel):
    """One page of a case list, newest first."""

    items: list[CaseSummary]
    next: int | None = Field(..., description="``before`` for the next page; null on the last page")
    total: int = Field(..., description="unresolved cases I may see in this scope")


@router.get("/escalations", response_model=CasePage)
def list_escalations(
    user: UserDep,
    services: ServicesDep,
    scope: str = Query("all", pattern="^(mine|queue|all)$"),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    before: int | None = Query(None, ge=1, le=MAX_ID, description="the previous page's ``next``"),
) -> dict[str, Any]:
    """Unresolved escalations of my firms and claims (``mine``), my department's shared queue
    (``queue``), or both, a page at a time (a plain ``def``: its queries run in the thread pool)."""
    return services.escalations.page_for(user, scope, limit, before)


@router.get("/escalations.csv", response_class=CSVResponse)
def export_csv(request: Request, user: UserDep, services: ServicesDep) -> Response:
    """Every escalation I may see, resolved ones included, as CSV (书记市长直通车-style records); audited."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in CSV_COLUMNS])
    cases = services.escalations.list_for(user, "all", include_resolved=True)
    for esc in cases:
        writer.writerow([_safe_cell(esc.get(key)) for key, _ in CSV_COLUMNS])
    services.audit.record(
        user, "export", "escalations", request, "cases " + ",".join(str(esc["id"]) for esc in cases)[:480]
    )
    return csv_download("escalations.csv", buf.getvalue())


def _safe_cell(value: Any) -> Any:
    """A cell for defusedcsv's writer, which leaves OWASP's two other formula triggers alone: a leading
    tab or carriage return (spreadsheets drop them and then read ``=...`` as a formula)."""
    if isinstance(value, str) and value[:1] in ("\t", "\r"):
        return "'" + value
    return value


@router.get("/escalations/{esc_id}")
def get_escalation(esc_id: CaseId, request: Request, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    """One case: handoff packet, transcript, events, notes (the opening is audited)."""
    try:
        detail = services.escalations.detail(esc_id, user)
    except EscalationError as exc:
        raise _fail(exc) from exc
    services.audit.record(user, "open", f"escalation:{esc_id}", request)
    return detail


@router.post("/escalations/{esc_id}/claim")
def claim(esc_id: CaseId, request: Request, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    """Take an open case."""
    try:
        services.escalations.claim(esc_id, user)
        detail = services.escalations.detail(esc_id, user)
    except EscalationError as exc:
        raise _fail(exc) from exc
    services.audit.record(user, "claim", f"escalation:{esc_id}", request)
    return detail


@router.post("/escalations/{esc_id}/reply")
def reply(
    esc_id: CaseId, body: TextIn, request: Request, user: UserDep, services: ServicesDep
) -> dict[str, Any]:
    """Answer the owner; the answer reaches them in the channel they used."""
    try:
        esc = services.escalations.require(esc_id, user)
        deliveries = services.deliveries(
            esc["sender_id"], esc["channel"], [{"text": body.text, "role": "liaison"}]
        )
        _, message_id = services.escalations.reply(esc_id, user, body.text, deliveries)
    except EscalationError as exc:
        raise _fail(exc) from exc
    services.audit.record(user, "reply", f"escalation:{esc_id}", request, f"message {message_id}")
    return services.escalations.detail(esc_id, user)


@router.post("/escalations/{esc_id}/resolve")
async def resolve(esc_id: CaseId, request: Request, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    """Close the case; the bot resumes the conversation and tells the owner."""
    try:
        await resolve_and_resume(services, esc_id, user)
    except EscalationError as exc:
        raise _fail(exc) from exc
    await services.db(services.audit.record, user, "resolve", f"escalation:{esc_id}", request)
    # the resolver claimed it, so may still see it
    return await services.db(services.escalations.detail, esc_id, user)


class ProposeIn(BaseModel):
    """A liaison's reply proposed as a common answer (建议入库)."""

    question: StrictStr = Field(..., min_length=1, max_length=2000)
    answer: StrictStr = Field(..., min_length=1, max_length=5000)
    department: StrictStr | None = Field(None, max_length=128, description="default: the proposer's")


@router.post("/escalations/{esc_id}/propose", status_code=201)
def propose(
    esc_id: CaseId, body: ProposeIn, request: Request, user: UserDep, services: ServicesDep
) -> ProposalOut:
    """Propose the answer given in this case as a common answer; editors review it (知识库 · 待审答复)."""
    try:
        services.escalations.require(esc_id, user)
    except EscalationError as exc:
        raise _fail(exc) from exc
    if not body.question.strip() or not body.answer.strip():
        raise HTTPException(400, "question and answer must not be blank")
    department = (body.department or "").strip() or user.get("department") or "市工业和信息化局"
    answer_id = services.knowledge.staff.propose(
        esc_id, body.question.strip(), body.answer.strip(), department, user["username"]
    )
    services.audit.record(user, "kb_propose", f"escalation:{esc_id}", request, f"staff_answer:{answer_id}")
    item = services.knowledge.staff.get(answer_id)
    assert item is not None
    return ProposalOut(**item)


@router.post("/escalations/{esc_id}/return")
def return_to_queue(esc_id: CaseId, request: Request, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    """Give a claimed case back to the queue."""
    try:
        returned = services.escalations.return_to_queue(esc_id, user)
    except EscalationError as exc:
        raise _fail(exc) from exc
    services.audit.record(user, "return", f"escalation:{esc_id}", request)
    try:
        return services.escalations.detail(esc_id, user)
    except EscalationError:
        return dict(returned)  # returned to a queue this liaison does not see: only the summary


@router.post("/escalations/{esc_id}/notes")
def add_note(
    esc_id: CaseId, body: TextIn, request: Request, user: UserDep, services: ServicesDep
) -> dict[str, Any]:
    """Add an internal note (never shown to the owner)."""
    try:
        detail = services.escalations.add_note(esc_id, user, body.text)
    except EscalationError as exc:
        raise _fail(exc) from exc
    services.audit.record(user, "note", f"escalation:{esc_id}", request)
    return detail


class FirmIn(BaseModel):
    """The registered firm a liaison has confirmed the owner speaks for."""

    uscc: StrictStr = Field(..., description="统一社会信用代码 of a registered firm")


@router.post("/escalations/{esc_id}/bind-firm")
def bind_firm(
    esc_id: CaseId, body: FirmIn, request: Request, user: UserDep, services: ServicesDep
) -> dict[str, Any]:
    """Bind the case's owner to a registered firm once the liaison has confirmed who they talk to: a
    微信客服 customer's external_userid (their later conversations too), any other conversation itself.
    The case shows the firm; later cases go to the firm's liaison, this one stays with its holder."""
    try:
        esc = services.escalations.require(esc_id, user)
        try:
            uscc = check_uscc(body.uscc)
        except RegistryError as exc:
            raise HTTPException(400, str(exc)) from exc
        firm = services.registry.firm(uscc=uscc)
        if firm is None:
            raise HTTPException(404, f"firm {uscc} is not registered")
        kf = parse_sender(esc["sender_id"])
        if kf is not None:
            KfState(services.store).bind(services.registry, kf[1], firm["uscc"], user["username"])
        services.escalations.set_firm(esc_id, user, firm)
    except EscalationError as exc:
        raise _fail(exc) from exc
    services.audit.record(user, "bind_firm", f"escalation:{esc_id}", request, firm["uscc"])
    return services.escalations.detail(esc_id, user)
