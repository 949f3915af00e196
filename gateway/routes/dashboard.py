"""The console's dashboard (issue 16): volume per day or week and channel, unanswered demand as topics,
service against the SLA per department and liaison, cases past SLA and ratings.

Each figure has a JSON route and a CSV twin at the same path plus ``.csv`` (UTF-8 with a BOM, for
spreadsheets). Editors and admins see every figure; a liaison sees only the service figures of their
own cases (claimed, or theirs as the firm's liaison), and is refused another's (403). The range is
``from``..``to`` in local days (YYYY-MM-DD, both included; the last 30 days by default).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from defusedcsv import csv
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictStr, validator

from gateway.data.dashboard import LOCAL_TZ, VOLUME_OUTCOMES, Dashboard, Period, topics
from gateway.schemas import ApiModel, CSVResponse, csv_download, refusals
from gateway.services import EditorDep, ServicesDep, UserDep
from huiqitong.outcome import OUTCOMES
from knowledge.search import default_searcher
from knowledge.segment import STOPWORDS, tokenizer

if TYPE_CHECKING:
    import jieba.analyse

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])

DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST, LATEST = date(2020, 1, 1), date(2099, 12, 31)
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_CHANNEL = r"^[A-Za-z0-9_:.-]{1,32}$"
STAFF_ROLES = ("editor", "admin")
UNCLAIMED_LABEL = "（未认领）"
# Words every question of this domain has: they name no topic.
GENERIC_WORDS = frozenset(
    "补贴 补助 奖励 资金 扶持 支持 项目 材料 条件 时候 时间 需要 要求 标准 多久 流程 办法 相关 一下 哪里 电话 联系 部门".split()
)


def _refuse(field: str, message: str) -> HTTPException:
    """A 422 in FastAPI's shape (``detail``: a list of {loc, msg, type})."""
    return HTTPException(422, [{"loc": ["query", field], "msg": message, "type": "value_error"}])


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _refuse(field, "日期应为有效的 YYYY-MM-DD") from None
    if not EARLIEST <= day <= LATEST:
        raise _refuse(field, f"日期应在 {EARLIEST} 与 {LATEST} 之间")
    return day


def date_range(
    start: Annotated[
        str | None,
        Query(
            alias="from",
            regex=_DATE,
            description="first local day, YYYY-MM-DD (default: 29 days before `to`)",
        ),
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", regex=_DATE, description="last local day, YYYY-MM-DD (default: today)")
    ] = None,
) -> Period:
    """The requested local days, checked: real dates, ``from`` not after ``to``, at most a year."""
    last = _day(end, "to") or datetime.now(tz=LOCAL_TZ).date()
    first = _day(start, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise _refuse("from", "开始日期不能晚于结束日期")
    if (last - first).days + 1 > MAX_DAYS:
        raise _refuse("from", f"时间范围不能超过 {MAX_DAYS} 天")
    return Period(first, last)


RangeDep = Annotated[Period, Depends(date_range)]
ChannelQuery = Annotated[
    str | None, Query(regex=_CHANNEL, description="only this channel (huiqitong.vocabulary.CHANNELS)")
]
ByQuery = Annotated[str, Query(regex="^(day|week)$", description="day, or ISO week (Monday first)")]
LiaisonQuery = Annotated[
    str | None,
    Query(max_length=64, description="only this liaison's cases (a liaison may ask for their own only)"),
]


def dashboard(services: ServicesDep) -> Dashboard:
    """The dashboard over the app's store, with the configured working day."""
    settings = services.settings
    return Dashboard(services.store, settings.workday_start_hour, settings.workday_end_hour)


DashboardDep = Annotated[Dashboard, Depends(dashboard)]


def own_scope(user: dict[str, str], liaison: str | None) -> str | None:
    """Whose cases a request may count: anyone's (or all) for editors and admins, a liaison's own only."""
    if user.get("role") in STAFF_ROLES:
        return liaison
    if liaison is None or liaison == user["username"]:
        return user["username"]
    raise HTTPException(403, "只能查看本人的服务数据")


def _csv(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return csv_download(filename, buf.getvalue())


def _stamp(period: Period) -> str:
    return f"{period.first:%Y%m%d}-{period.last:%Y%m%d}"


# -- volume ------------------------------------------------------------------------------------------
class VolumeRow(ApiModel):
    """One period and channel: conversations, owner messages, and those by outcome."""

    period: str = Field(..., description="the period's first local day")
    label: str = Field(..., description="YYYY-MM-DD, or YYYY-Www for a week")
    channel: str
    conversations: int
    messages: int
    answer: int
    staff: int
    verdict: int
    not_in_letter: int
    out_of_scope: int
    handoff: int
    others: int
    purged: int = Field(..., description="messages the retention purge deleted (their outcome is gone)")


class VolumeTotal(ApiModel):
    """One channel over the whole range: each owner counted once."""

    channel: str
    conversations: int
    messages: int


class VolumeOut(ApiModel):
    """Volume per period and channel, and per channel over the range."""

    start: str
    end: str
    by: str
    rows: list[VolumeRow]
    totals: list[VolumeTotal]


def _volume(dash: Dashboard, period: Period, by: str, channel: str | None) -> list[dict[str, Any]]:
    return dash.volume(period, "week" if by == "week" else "day", channel)


@router.get("/volume", responses=refusals(401, 403))
def volume(
    _editor: EditorDep,
    dash: DashboardDep,
    period: RangeDep,
    by: ByQuery = "day",
    channel: ChannelQuery = None,
) -> VolumeOut:
    """Conversations and owner messages per day or week and channel, by outcome (editors, admins)."""
    rows = _volume(dash, period, by, channel)
    return VolumeOut(
        start=period.first.isoformat(),
        end=period.last.isoformat(),
        by=by,
        rows=[VolumeRow(**r) for r in rows],
        totals=[VolumeTotal(**t) for t in dash.volume_totals(period, channel)],
    )


VOLUME_HEADER = [
    "周期",
    "渠道",
    "会话数",
    "企业消息数",
    *(OUTCOMES[o] for o in VOLUME_OUTCOMES),
    "其他",
    "已清理",
]


@router.get("/volume.csv", response_class=CSVResponse, responses=refusals(401, 403))
def volume_csv(
    _editor: EditorDep,
    dash: DashboardDep,
    period: RangeDep,
    by: ByQuery = "day",
    channel: ChannelQuery = None,
) -> Response:
    """The volume figure as CSV."""
    rows = _volume(dash, period, by, channel)
    return _csv(
        f"volume_{by}_{_stamp(period)}.csv",
        VOLUME_HEADER,
        (
            [
                r["label"],
                r["channel"],
                r["conversations"],
                r["messages"],
                *(r[o] for o in VOLUME_OUTCOMES),
                r["others"],
                r["purged"],
            ]
            for r in rows
        ),
    )


# -- unanswered demand ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _extractor() -> jieba.analyse.TFIDF:
    """jieba's TF-IDF keyword extractor over the knowledge base's tokenizer (the shared user dictionary).

    Imported here, when the topics are first viewed: jieba.analyse (its IDF table and part-of-speech
    model) is a third of the gateway's memory and no owner's turn needs it."""
    import jieba.analyse

    tfidf = jieba.analyse.TFIDF()
    tfidf.tokenizer = tokenizer()
    tfidf.stop_words = set(tfidf.stop_words) | STOPWORDS | GENERIC_WORDS
    return tfidf


_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def keywords(text: str) -> list[str]:
    """A message's topic words, best first: jieba TF-IDF over our dictionary, without stop words,
    generic words of the domain, numbers and single characters."""
    tags = _extractor().extract_tags(text, topK=5)
    return [str(t) for t in tags if len(t) >= 2 and _WORD.search(t)]


def record_titles() -> dict[str, str]:
    """The published records' titles, by id (from the index the bot searches)."""
    return {pid: str(rec.get("title") or pid) for pid, rec in default_searcher().policies.items()}


class TopicOut(ApiModel):
    """A topic of unanswered demand."""

    topic: str = Field(..., description="record:<id> when the bot recognised a record, else keyword:<word>")
    title: str
    record_ids: list[str]
    keywords: list[str]
    count: int = Field(..., description="unanswered messages in the period")
    previous: int = Field(..., description="in the previous period of equal length")
    change: int
    examples: list[str]


class TopicsOut(ApiModel):
    """Unanswered demand in a period, by topic, most asked first."""

    start: str
    end: str
    previous_start: str
    previous_end: str
    topics: list[TopicOut]


def _topics(dash: Dashboard, period: Period, channel: str | None) -> list[dict[str, Any]]:
    return topics(dash.unanswered(period, channel), record_titles(), keywords)


@router.get("/topics", responses=refusals(401, 403))
def unanswered_topics(
    request: Request,
    editor: EditorDep,
    services: ServicesDep,
    dash: DashboardDep,
    period: RangeDep,
    channel: ChannelQuery = None,
) -> TopicsOut:
    """What owners asked that the bot did not answer (declined, out of scope, handed off, other),
    grouped into topics with counts, the trend against the previous period and example messages."""
    found = _topics(dash, period, channel)
    services.audit.record(editor, "dashboard_topics", "messages", request, f"{period.first}..{period.last}")
    before = period.previous()
    return TopicsOut(
        start=period.first.isoformat(),
        end=period.last.isoformat(),
        previous_start=before.first.isoformat(),
        previous_end=before.last.isoformat(),
        topics=[TopicOut(**t) for t in found],
    )


@router.get("/topics.csv", response_class=CSVResponse, responses=refusals(401, 403))
def unanswered_topics_csv(
    request: Request,
    editor: EditorDep,
    services: ServicesDep,
    dash: DashboardDep,
    period: RangeDep,
    channel: ChannelQuery = None,
) -> Response:
    """The unanswered topics as CSV (examples joined by a line break)."""
    found = _topics(dash, period, channel)
    services.audit.record(
        editor, "dashboard_export", "messages", request, f"topics {period.first}..{period.last}"
    )
    return _csv(
        f"unanswered_{_stamp(period)}.csv",
        ["话题", "相关条目", "关键词", "本期", "上期", "变化", "示例"],
        (
            [
                t["title"],
                " ".join(t["record_ids"]),
                " ".join(t["keywords"]),
                t["count"],
                t["previous"],
                t["change"],
                "\n".join(t["examples"]),
            ]
            for t in found
        ),
    )


class ProposeIn(BaseModel):
    """A topic turned into a draft staff answer: its questions and the records it is about."""

    questions: list[StrictStr] = Field(..., min_items=1, max_items=20)
    record_ids: list[StrictStr] = Field(default_factory=list, max_items=20)
    department: StrictStr | None = Field(None, max_length=128, description="default: the editor's")

    @validator("questions", each_item=True)
    def _question(cls, value: str) -> str:
        value = value.strip()
        if not 2 <= len(value) <= 500:
            raise ValueError("每个问题 2–500 字")
        return value

    @validator("record_ids", each_item=True)
    def _record(cls, value: str) -> str:
        if not 1 <= len(value) <= 64:
            raise ValueError("条目编号 1–64 字")
        return value


class ProposedOut(ApiModel):
    """The pending proposal created in the editors' 待审答复 queue."""

    id: int
    status: str
    questions: list[str]
    record_ids: list[str]
    answer: str


@router.post("/topics/propose", status_code=201, responses=refusals(401, 403))
def propose_from_topic(
    body: ProposeIn, request: Request, editor: EditorDep, services: ServicesDep
) -> ProposedOut:
    """Turn a topic into a pending staff-answer proposal (answer left empty: the editor writes it and
    cannot publish before, as publishing checks the answer)."""
    staff = services.knowledge.staff
    questions = list(dict.fromkeys(body.questions))
    department = (body.department or "").strip() or editor.get("department") or "市工业和信息化局"
    answer_id = staff.propose(None, questions[0], "", department, editor["username"])
    item = staff.edit(
        answer_id,
        {
            "questions": questions,
            "answer": "",
            "department": department,
            "record_ids": list(dict.fromkeys(body.record_ids)),
            "review_by": None,
        },
        editor["username"],
    )
    services.audit.record(editor, "kb_propose", "dashboard_topic", request, f"staff_answer:{answer_id}")
    return ProposedOut(**item)


# -- service ------------------------------------------------------------------------------------------
class ServiceRow(ApiModel):
    """Cases of one department or liaison against the SLA, with the owners' satisfaction."""

    level: str = Field(..., description="department or liaison")
    name: str = Field(..., description='the department or the liaison\'s username ("" unclaimed)')
    cases: int
    responded: int
    resolved: int
    first_response_median_h: float | None = Field(None, description="working hours")
    first_response_p90_h: float | None = None
    resolution_median_h: float | None = None
    resolution_p90_h: float | None = None
    within_sla: int
    sla_decided: int = Field(..., description="cases answered, or past due unanswered")
    within_sla_share: float | None = None
    past_sla: int
    satisfaction_mean: float | None = Field(None, description="1–5")
    satisfaction_count: int


class ServiceOut(ApiModel):
    """Service figures of the cases created in the range."""

    start: str
    end: str
    liaison: str | None = None
    rows: list[ServiceRow]


@router.get("/service", responses=refusals(401, 403))
def service(user: UserDep, dash: DashboardDep, period: RangeDep, liaison: LiaisonQuery = None) -> ServiceOut:
    """Cases per department and per liaison: first-response and resolution times in working hours
    (median, p90), the share answered within the SLA, cases past SLA, satisfaction (1–5)."""
    scope = own_scope(user, liaison)
    return ServiceOut(
        start=period.first.isoformat(),
        end=period.last.isoformat(),
        liaison=scope,
        rows=[ServiceRow(**r) for r in dash.service(period, scope)],
    )


@router.get("/service.csv", response_class=CSVResponse, responses=refusals(401, 403))
def service_csv(
    user: UserDep, dash: DashboardDep, period: RangeDep, liaison: LiaisonQuery = None
) -> Response:
    """The service figures as CSV."""
    rows = dash.service(period, own_scope(user, liaison))
    return _csv(
        f"service_{_stamp(period)}.csv",
        [
            "维度",
            "名称",
            "案件数",
            "已首次响应",
            "已办结",
            "首次响应中位数(工时)",
            "首次响应P90(工时)",
            "办结中位数(工时)",
            "办结P90(工时)",
            "按时响应",
            "已到期或已响应",
            "按时响应率",
            "超时案件",
            "满意度均分",
            "满意度评价数",
        ],
        (
            [
                "部门" if r["level"] == "department" else "联络员",
                r["name"] or UNCLAIMED_LABEL,
                *(
                    r[k]
                    for k in (
                        "cases",
                        "responded",
                        "resolved",
                        "first_response_median_h",
                        "first_response_p90_h",
                        "resolution_median_h",
                        "resolution_p90_h",
                        "within_sla",
                        "sla_decided",
                        "within_sla_share",
                        "past_sla",
                        "satisfaction_mean",
                        "satisfaction_count",
                    )
                ),
            ]
            for r in rows
        ),
    )


class LateCase(ApiModel):
    """A case past its first-response SLA."""

    id: int
    status: str
    channel: str
    firm_name: str | None = None
    department: str | None = None
    liaison: str
    created_at: str | None = None
    due_at: str
    first_response_at: str | None = None
    late_h: float | None = Field(None, description="working hours past due (to the response, or now)")


@router.get("/late", responses=refusals(401, 403))
def late_cases(
    user: UserDep, dash: DashboardDep, period: RangeDep, liaison: LiaisonQuery = None
) -> list[LateCase]:
    """Cases created in the range past their SLA: answered late, or unanswered past due."""
    return [LateCase(**c) for c in dash.past_sla(period, own_scope(user, liaison))]


@router.get("/late.csv", response_class=CSVResponse, responses=refusals(401, 403))
def late_cases_csv(
    user: UserDep, dash: DashboardDep, period: RangeDep, liaison: LiaisonQuery = None
) -> Response:
    """Cases past SLA as CSV."""
    found = dash.past_sla(period, own_scope(user, liaison))
    return _csv(
        f"past_sla_{_stamp(period)}.csv",
        [
            "工单",
            "状态",
            "渠道",
            "企业",
            "部门",
            "联络员",
            "创建时间",
            "应响应时间",
            "首次响应时间",
            "超时(工时)",
        ],
        (
            [
                c["id"],
                c["status"],
                c["channel"],
                c["firm_name"],
                c["department"],
                c["liaison"] or UNCLAIMED_LABEL,
                c["created_at"],
                c["due_at"],
                c["first_response_at"],
                c["late_h"],
            ]
            for c in found
        ),
    )


# -- ratings -----------------------------------------------------------------------------------------
class RatingRow(ApiModel):
    """Ratings of one kind in one channel."""

    kind: str = Field(..., description="answer (有帮助/没帮助) or case (1–5)")
    channel: str
    count: int
    helpful: int | None = None
    helpful_share: float | None = None
    mean: float | None = None


@router.get("/ratings", responses=refusals(401, 403))
def rating_figures(
    _editor: EditorDep, dash: DashboardDep, period: RangeDep, channel: ChannelQuery = None
) -> list[RatingRow]:
    """Answer ratings (helpful share) and case satisfaction (mean 1–5) given in the range, per channel."""
    return [RatingRow(**r) for r in dash.ratings(period, channel)]


@router.get("/ratings.csv", response_class=CSVResponse, responses=refusals(401, 403))
def rating_figures_csv(
    _editor: EditorDep, dash: DashboardDep, period: RangeDep, channel: ChannelQuery = None
) -> Response:
    """The ratings as CSV."""
    kinds: dict[str, str] = {"answer": "答复评价", "case": "办结满意度"}
    return _csv(
        f"ratings_{_stamp(period)}.csv",
        ["类别", "渠道", "评价数", "有帮助", "有帮助占比", "均分"],
        (
            [
                kinds.get(r["kind"], r["kind"]),
                r["channel"],
                r["count"],
                r["helpful"],
                r["helpful_share"],
                r["mean"],
            ]
            for r in dash.ratings(period, channel)
        ),
    )
