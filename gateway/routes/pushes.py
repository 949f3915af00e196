"""精准推送 for editors: the firms a published record fits, sending them its push, and the push log.

Editors and administrators only. The candidates are worked out afresh from the firms' profiles at each
request (``gateway.push``); a push is logged once per record version and firm, whatever is clicked.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from defusedcsv import csv
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictStr, conlist, constr

from gateway.data.feedback import Feedback
from gateway.data.profiles import Profiles
from gateway.data.pushes import PushData, PushRow
from gateway.push import Pusher, PushRefused
from gateway.schemas import ApiModel, CSVResponse, csv_download, refusals
from gateway.services import EditorDep, Services, ServicesDep
from huiqitong.vocabulary import CHANNELS, FACT_LABELS
from knowledge.curation import RECORD_ID

router = APIRouter(prefix="/api/pushes", tags=["pushes"], responses=refusals(401, 403, 503))
CHINA = ZoneInfo("Asia/Shanghai")
USCC = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
MAX_FIRMS = 500
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)  # no push lies outside
LOG_COLUMNS = [
    ("id", "序号"),
    ("created_at", "推送时间"),
    ("record_id", "条目"),
    ("version", "版本"),
    ("uscc", "统一社会信用代码"),
    ("firm_name", "企业名称"),
    ("verdict", "判断"),
    ("channels", "渠道"),
    ("sent_by", "推送人"),
    ("seen_at", "网页已读时间"),
    ("text", "推送内容"),
]


class LiaisonOut(ApiModel):
    """A firm's liaison."""

    username: str
    name: str
    department: str


class FactOut(ApiModel):
    """One fact of a profile: its value and when and where it was stated."""

    label: str
    value: Any
    origin: str = Field(..., description="registry | conversation | editor")
    sender_id: str | None = Field(None, description="the conversation the owner stated it in")
    channel: str | None = None
    stated_at: str | None = Field(None, description="null for the registry's own columns")


class ProfileOut(ApiModel):
    """A registered firm's profile."""

    uscc: str
    name: str
    level: str
    industry: str | None = None
    town: str | None = None
    liaison: LiaisonOut | None = None
    facts: dict[str, FactOut]
    opted_out: bool


class ChannelOut(ApiModel):
    """A channel a firm can be reached on (huiqitong.vocabulary.CHANNELS)."""

    channel: str
    label: str


class CandidateOut(ApiModel):
    """A firm the record fits, or may fit once one fact is known."""

    uscc: str
    name: str
    verdict: str = Field(..., description="符合 | 信息不足")
    reasons: list[str]
    missing: str | None = Field(None, description="the one fact still unknown (信息不足)")
    missing_label: str | None = None
    liaison: LiaisonOut | None = None
    channels: list[ChannelOut]


class SelectionOut(ApiModel):
    """The candidates of a record's published version and the firms left out."""

    record_id: str
    version: int
    title: str
    candidates: list[CandidateOut]
    not_matching: int = Field(..., description="firms the record does not fit (不符合)")
    undecided: int = Field(..., description="信息不足 on no fact, or on two or more")
    opted_out: int = Field(..., description="candidates that stopped pushes")
    already_pushed: int = Field(..., description="candidates that got this version already")


class PushIn(BaseModel):
    """The firms to push a record's published version to."""

    record_id: StrictStr = Field(..., regex=RECORD_ID.pattern)
    uscc: conlist(constr(strict=True, regex=USCC), min_items=1, max_items=MAX_FIRMS)  # type: ignore[valid-type]

    class Config:
        schema_extra = {"example": {"record_id": "zjtx-growth-subsidy", "uscc": ["91442000MA4W0A1D4K"]}}


class SentOut(ApiModel):
    """A push logged and queued."""

    id: int
    uscc: str
    name: str
    verdict: str
    channels: list[str]


class SkippedOut(ApiModel):
    """A firm asked for and not pushed, and why."""

    uscc: str
    reason: str = Field(
        ..., description="unknown_firm | not_candidate | opted_out | already_pushed | no_channel"
    )
    reason_label: str


class SendOut(ApiModel):
    """What was sent and what was skipped."""

    record_id: str
    version: int
    sent: list[SentOut]
    skipped: list[SkippedOut]


class PushOut(ApiModel):
    """A logged push."""

    id: int
    record_id: str
    version: int
    uscc: str
    firm_name: str
    verdict: str
    text: str
    channels: str = Field(..., description="comma-joined channels used (wecom-chat, wecomkf, web)")
    sent_by: str
    created_at: str
    seen_at: str | None = None


def _refused(exc: PushRefused) -> HTTPException:
    return HTTPException(exc.status, str(exc))


@router.get("/profiles/{uscc}", responses=refusals(404))
def firm_profile(_editor: EditorDep, services: ServicesDep, uscc: str = Path(..., regex=USCC)) -> ProfileOut:
    """A registered firm's profile: the registry's level and industry, overlaid by the facts its owner
    stated in a conversation bound to it (the latest of each), with when and where each was stated."""
    profile = Profiles(services.store).get(uscc)
    if profile is None:
        raise HTTPException(404, "no such firm")
    facts = {
        name: FactOut(label=FACT_LABELS.get(name, name), **fact) for name, fact in profile["facts"].items()
    }
    liaison = profile["liaison"]
    return ProfileOut(
        uscc=profile["uscc"],
        name=profile["name"],
        level=profile["level"],
        industry=profile["industry"],
        town=profile["town"],
        liaison=LiaisonOut(**liaison) if liaison else None,
        facts=facts,
        opted_out=not Feedback(services.store).subscribed(uscc),
    )


@router.get("/candidates", responses=refusals(404, 409))
def candidates(
    _editor: EditorDep,
    services: ServicesDep,
    record_id: str = Query(
        ...,
        regex=RECORD_ID.pattern,
        description="the record (its published version)",
        example="zjtx-growth-subsidy",
    ),
) -> SelectionOut:
    """The firms the record's published version fits (符合), or may fit once one named fact is known
    (信息不足), leaving out firms that stopped pushes or got this version already; with each firm's
    reasons, liaison and channels, and counts of the firms left out. 404 unknown record; 409 a record
    unpublished, expired or without conditions."""
    try:
        return SelectionOut(**Pusher.of(services).select(record_id).as_dict())
    except PushRefused as exc:
        raise _refused(exc) from None


@router.post("", responses=refusals(404, 409))
def send_pushes(body: PushIn, request: Request, editor: EditorDep, services: ServicesDep) -> SendOut:
    """Push the record's published version to the firms given that are still candidates: WeCom groups
    and 微信客服 through the rate-limited outbox, the web as a notice in the widget. A firm never gets
    the same version twice (after a restart or a second click too): it is listed in ``skipped``."""
    try:
        result = Pusher.of(services).send(body.record_id, body.uscc, editor["username"])
    except PushRefused as exc:
        raise _refused(exc) from None
    services.audit.record(
        editor,
        "push_send",
        body.record_id,
        request,
        f"v{result['version']} to " + ",".join(s["uscc"] for s in result["sent"])[:400],
    )
    return SendOut(**result)


def _window(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Days in China as UTC bounds: from the start of ``since`` to the end of ``until``; a day outside
    any push's lifetime bounds nothing (and keeps clear of datetime's own limits)."""
    start = datetime.combine(since, time(), CHINA) if since and since > EARLIEST else None
    end = datetime.combine(until + timedelta(days=1), time(), CHINA) if until and until < LATEST else None
    return start, end


def _log(services: Services, record_id: str | None, since: date | None, until: date | None) -> list[PushRow]:
    start, end = _window(since, until)
    return PushData(services.store).log(record_id, start, end)


RECORD_FILTER = Query(None, regex=RECORD_ID.pattern, description="only this record's pushes")
FROM = Query(None, alias="from", description="from this day (China time), YYYY-MM-DD")
TO = Query(None, alias="to", description="up to and including this day, YYYY-MM-DD")


@router.get("")
def push_log(
    _editor: EditorDep,
    services: ServicesDep,
    record_id: str | None = RECORD_FILTER,
    since: date | None = FROM,
    until: date | None = TO,
) -> list[PushOut]:
    """The push log, newest first: every push with its text, channels, sender and when the widget
    showed it."""
    return [PushOut(**row) for row in _log(services, record_id, since, until)]


@router.get(".csv", response_class=CSVResponse)
def push_log_csv(
    request: Request,
    editor: EditorDep,
    services: ServicesDep,
    record_id: str | None = RECORD_FILTER,
    since: date | None = FROM,
    until: date | None = TO,
) -> Response:
    """The push log as CSV (UTF-8 with BOM, formula-safe cells); audited."""
    rows = _log(services, record_id, since, until)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in LOG_COLUMNS])
    for row in rows:
        out = {**row, "channels": "、".join(CHANNELS.get(c, c) for c in row["channels"].split(",") if c)}
        writer.writerow(["" if out[key] is None else out[key] for key, _ in LOG_COLUMNS])
    services.audit.record(editor, "export", "pushes", request, f"{len(rows)} pushes")
    return csv_download("pushes.csv", buf.getvalue())
