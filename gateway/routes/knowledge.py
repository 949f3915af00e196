"""Editors' API: source documents and versioned records, published into the bot without a restart.

Editors and administrators only. A record is refused field by field (422, FastAPI's standard shape)
when its quote is not verbatim in its source, an amount is not in its quote, or a condition names an
unknown fact (:mod:`knowledge.curation`).
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field, StrictStr, validator

from gateway.data.knowledge import KnowledgeConflict
from gateway.knowledge import RecordInvalid
from gateway.schemas import MAX_ID, ApiModel, refusals
from gateway.services import EditorDep, ServicesDep, UserDep
from huiqitong.vocabulary import FACT_LABELS
from knowledge.curation import OPS, RECORD_ID
from knowledge.records import CATEGORY_LABELS, STATUS_LABELS

PROPOSAL_LABELS = {"pending": "待审核", "published": "已发布", "rejected": "已驳回", "withdrawn": "已撤回"}
router = APIRouter(prefix="/api/knowledge", tags=["knowledge"], responses=refusals(401, 403, 503))
RECORD_PATH = Path(..., regex=RECORD_ID.pattern)
SOURCE_PATH = Path(..., regex=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_SOURCE_CHARS = 500_000
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class SourceIn(BaseModel):
    """A source document: its metadata and full text."""

    title: StrictStr = Field(..., min_length=1, max_length=300)
    doc_no: StrictStr = Field("", max_length=128, description="文号, e.g. 中工信〔2026〕12号")
    issuer: StrictStr = Field("", max_length=128)
    date: StrictStr = Field(..., description="YYYY-MM-DD")
    disclosure: StrictStr = Field("主动公开", max_length=32)
    cited_as: StrictStr = Field("", max_length=64, description="short name in citations; 文号 when empty")
    contact: StrictStr = Field("", max_length=128)
    text: StrictStr = Field(..., max_length=MAX_SOURCE_CHARS)

    @validator("date")
    def _iso_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("日期应为 YYYY-MM-DD") from None
        return value

    @validator("text")
    def _has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("全文不能为空")
        return value


class SourceOut(ApiModel):
    """A stored source (``text`` only when one source is read)."""

    id: str
    title: str
    doc_no: str
    issuer: str
    date: str
    disclosure: str
    cited_as: str
    contact: str
    chars: int
    created_by: str
    created_at: str
    text: str | None = None


class Amount(BaseModel):
    """An amount the quote states, in 万元."""

    min: float | None = Field(None, ge=0)
    max: float | None = Field(None, ge=0)
    label: StrictStr = Field("", max_length=200)


class RecordIn(BaseModel):
    """A record as an editor writes it; checked against its source before it is stored."""

    id: StrictStr = Field(..., max_length=64)
    source_id: StrictStr = Field(..., max_length=64)
    title: StrictStr = Field(..., max_length=200)
    section: StrictStr = Field(..., max_length=64)
    departments: list[StrictStr] = Field(..., max_items=20)
    category: StrictStr
    audience: StrictStr = Field("", max_length=500)
    benefit_text: StrictStr = Field("", max_length=2000)
    amounts_wan: list[Amount] = Field(default_factory=list, max_items=20)
    conditions: dict[str, Any] | None = None
    aliases: list[StrictStr] = Field(default_factory=list, max_items=50)
    status: StrictStr = "in_force"
    valid_from: StrictStr | None = None
    valid_until: StrictStr | None = None
    quote: StrictStr = Field(..., max_length=5000)


class QuoteAtOut(ApiModel):
    """Where a quote sits in its source's normalised text."""

    start: int
    end: int
    before: str
    after: str


class SavedOut(ApiModel):
    """A stored version."""

    id: str
    version: int
    state: str
    quote_at: QuoteAtOut | None = None


class IndexOut(ApiModel):
    """The index after publishing."""

    records: int
    built_ms: float


class PublishedOut(ApiModel):
    """A published version and the index it went into."""

    id: str
    version: int
    state: str
    index: IndexOut


class VersionOut(ApiModel):
    """One version of a record."""

    version: int
    author: str
    created_at: str
    state: str
    note: str
    title: str
    status: str


class RecordListItem(ApiModel):
    """A record in the list."""

    id: str
    title: str
    section: str
    source_id: str
    status: str
    category: str
    published_version: int | None = None
    draft_version: int | None = None
    updated_at: str
    updated_by: str


class RecordOut(ApiModel):
    """A record's published version and draft, each with where its quote sits, and its history."""

    id: str
    published: dict[str, Any] | None = None
    draft: dict[str, Any] | None = None
    versions: list[VersionOut]


class QuoteCheckIn(BaseModel):
    """A quote to look for in a source."""

    source_id: StrictStr = Field(..., max_length=64)
    quote: StrictStr = Field(..., max_length=5000)


class QuoteCheckOut(ApiModel):
    """Whether the quote is in the source, and where."""

    found: bool
    quote_at: QuoteAtOut | None = None


class ExtractOut(ApiModel):
    """Text extracted from an uploaded document."""

    text: str
    chars: int
    filename: str


class KnowledgeVocabulary(ApiModel):
    """The choices of the record form."""

    categories: dict[str, str]
    statuses: dict[str, str]
    facts: dict[str, str]
    ops: list[str]
    proposal_statuses: dict[str, str]


def _invalid(errors: dict[str, str]) -> HTTPException:
    """FastAPI's standard 422: one item per refused field."""
    return HTTPException(
        422,
        [{"loc": ["body", field], "msg": msg, "type": "value_error.record"} for field, msg in errors.items()],
    )


@router.get("/vocabulary")
def knowledge_vocabulary(_editor: EditorDep) -> KnowledgeVocabulary:
    """Categories, statuses, the facts conditions may read, and their operators."""
    return KnowledgeVocabulary(
        categories=CATEGORY_LABELS,
        statuses=STATUS_LABELS,
        facts=FACT_LABELS,
        ops=list(OPS),
        proposal_statuses=PROPOSAL_LABELS,
    )


@router.get("/sources")
def list_sources(_editor: EditorDep, services: ServicesDep) -> list[SourceOut]:
    """Every source document (without its text)."""
    return [SourceOut(**row) for row in services.knowledge.data.sources()]


@router.get("/sources/{source_id}", responses=refusals(404))
def get_source(_editor: EditorDep, services: ServicesDep, source_id: str = SOURCE_PATH) -> SourceOut:
    """One source with its full text."""
    row = services.knowledge.data.source(source_id)
    if row is None:
        raise HTTPException(404, "no such source")
    return SourceOut(**row)


@router.post("/sources", status_code=201)
def add_source(body: SourceIn, request: Request, editor: EditorDep, services: ServicesDep) -> SourceOut:
    """Store a new source document; records may then quote it."""
    source_id = services.knowledge.data.add_source(body.dict(), editor["username"])
    services.audit.record(editor, "kb_source_add", source_id, request, body.title[:100])
    row = services.knowledge.data.source(source_id)
    assert row is not None
    return SourceOut(**{**row, "text": None})


def extract_text(filename: str, content: bytes) -> str:
    """The text of an uploaded .txt, .docx or text-layer .pdf.

    Raises:
        HTTPException: 415 for another type, 400 for a file without text (a scanned PDF) or unreadable.
    """
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    try:
        if suffix == "txt":
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    text = content.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise HTTPException(400, "文本文件的编码无法识别（请用 UTF-8 或 GBK）")
        elif suffix == "docx":
            import docx  # python-docx; imported here: only editors' uploads need it

            document = docx.Document(io.BytesIO(content))
            text = "\n".join(p.text for p in document.paragraphs)
        elif suffix == "pdf":
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(content))
            text = "\n".join((page.extract_text() or "") for page in reader.pages)
            if not re.sub(r"\s", "", text):
                raise HTTPException(
                    400, "该 PDF 没有文字层（可能是扫描件），请粘贴文字或上传可复制文字的文件"
                )
        else:
            raise HTTPException(415, "只支持 .txt、.docx 和有文字层的 .pdf")
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(400, f"文件无法读取：{type(exc).__name__}") from exc
    if not text.strip():
        raise HTTPException(400, "文件中没有文字")
    return text.replace("\r\n", "\n")


@router.post("/sources/extract", responses=refusals(400, 413, 415))
def extract(_editor: EditorDep, file: Annotated[UploadFile, File()]) -> ExtractOut:
    """The text of an uploaded document, to check and save as a source."""
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, "文件超过 20 MB")
    text = extract_text(file.filename or "", content)
    return ExtractOut(text=text, chars=len(text), filename=file.filename or "")


@router.get("/records")
def list_records(_editor: EditorDep, services: ServicesDep) -> list[RecordListItem]:
    """Every record with its published and draft version."""
    return [RecordListItem(**row) for row in services.knowledge.data.records()]


def _with_place(services: Any, version: dict[str, Any] | None) -> dict[str, Any] | None:
    if version is None:
        return None
    data = version["data"]
    place = services.knowledge.where(data.get("source_id", ""), data.get("quote", ""))
    return {
        **data,
        "version": version["version"],
        "author": version["author"],
        "created_at": version["created_at"],
        "quote_at": place.as_dict() if place else None,
    }


@router.get("/records/{record_id}", responses=refusals(404))
def get_record(_editor: EditorDep, services: ServicesDep, record_id: str = RECORD_PATH) -> RecordOut:
    """A record's published version and draft, and its history."""
    data = services.knowledge.data
    state = data.state(record_id)
    if state is None:
        raise HTTPException(404, "no such record")
    version = {
        key: data.version(record_id, state[f"{key}_version"]) if state[f"{key}_version"] else None
        for key in ("published", "draft")
    }
    return RecordOut(
        id=record_id,
        published=_with_place(services, version["published"]),
        draft=_with_place(services, version["draft"]),
        versions=[VersionOut(**v) for v in data.versions(record_id)],
    )


def _saved(
    services: Any, body: RecordIn, editor: dict[str, str], request: Request, *, create: bool
) -> SavedOut:
    try:
        version = services.knowledge.save(body.dict(), editor["username"], create=create)
    except RecordInvalid as exc:
        raise _invalid(exc.errors) from None
    except KnowledgeConflict as exc:
        raise HTTPException(409 if create else 404, str(exc)) from None
    services.audit.record(editor, "kb_record_save", body.id, request, f"v{version}")
    place = services.knowledge.where(body.source_id, body.quote)
    return SavedOut(
        id=body.id, version=version, state="draft", quote_at=QuoteAtOut(**place.as_dict()) if place else None
    )


@router.post("/records", status_code=201, responses=refusals(409))
def create_record(body: RecordIn, request: Request, editor: EditorDep, services: ServicesDep) -> SavedOut:
    """A new record, saved as draft version 1 (publish it to make it live)."""
    return _saved(services, body, editor, request, create=True)


@router.put("/records/{record_id}", responses=refusals(400, 404))
def save_record(
    body: RecordIn, request: Request, editor: EditorDep, services: ServicesDep, record_id: str = RECORD_PATH
) -> SavedOut:
    """A new draft version of an existing record."""
    if body.id != record_id:
        raise HTTPException(400, "a record's id cannot change")
    return _saved(services, body, editor, request, create=False)


@router.post("/records/{record_id}/publish", responses=refusals(404, 409))
def publish_record(
    request: Request, editor: EditorDep, services: ServicesDep, record_id: str = RECORD_PATH
) -> PublishedOut:
    """Publish the record's draft: the index is rebuilt and the bot answers from it within seconds."""
    if services.knowledge.data.state(record_id) is None:
        raise HTTPException(404, "no such record")
    try:
        version, figures = services.knowledge.publish(record_id, editor["username"])
    except KnowledgeConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except RecordInvalid as exc:
        raise _invalid(exc.errors) from None
    services.audit.record(editor, "kb_record_publish", record_id, request, f"v{version}")
    return PublishedOut(
        id=record_id,
        version=version,
        state="published",
        index=IndexOut(records=figures["records"], built_ms=figures["built_ms"]),
    )


@router.get("/records/{record_id}/versions", responses=refusals(404))
def record_versions(
    _editor: EditorDep, services: ServicesDep, record_id: str = RECORD_PATH
) -> list[VersionOut]:
    """A record's history, newest first."""
    if services.knowledge.data.state(record_id) is None:
        raise HTTPException(404, "no such record")
    return [VersionOut(**v) for v in services.knowledge.data.versions(record_id)]


@router.post("/records/{record_id}/versions/{version}/restore", responses=refusals(404))
def restore_version(
    request: Request,
    editor: EditorDep,
    services: ServicesDep,
    record_id: str = RECORD_PATH,
    version: int = Path(..., ge=1, le=1_000_000),
) -> SavedOut:
    """A new draft copying an earlier version (publish it to make it live)."""
    if services.knowledge.data.state(record_id) is None:
        raise HTTPException(404, "no such record")
    try:
        new = services.knowledge.restore(record_id, version, editor["username"])
    except KnowledgeConflict as exc:
        raise HTTPException(404, str(exc)) from None
    services.audit.record(editor, "kb_record_restore", record_id, request, f"v{version} → v{new}")
    return SavedOut(id=record_id, version=new, state="draft")


@router.post("/check-quote")
def check_quote(body: QuoteCheckIn, _editor: EditorDep, services: ServicesDep) -> QuoteCheckOut:
    """Whether a quote occurs verbatim (after normalisation) in a source, and where."""
    place = services.knowledge.where(body.source_id, body.quote)
    return QuoteCheckOut(found=place is not None, quote_at=QuoteAtOut(**place.as_dict()) if place else None)


# -- staff answers: a liaison's reply proposed as a common answer, reviewed by an editor ---------------
PROPOSAL_STATUSES = ("pending", "published", "rejected", "withdrawn", "all")


class ProposalOut(ApiModel):
    """A proposal, or (once published) a staff answer."""

    id: int
    escalation_id: int | None = None
    questions: list[str]
    answer: str
    department: str
    record_ids: list[str]
    review_by: str | None = None
    status: str
    proposed_by: str
    proposed_at: str
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    reason: str
    published_at: str | None = None


class ProposalEdit(BaseModel):
    """An editor's version of a proposal."""

    questions: list[StrictStr] = Field(..., max_items=20)
    answer: StrictStr = Field(..., max_length=5000)
    department: StrictStr = Field(..., max_length=128)
    record_ids: list[StrictStr] = Field(default_factory=list, max_items=20)
    review_by: StrictStr | None = Field(None, max_length=10, description="YYYY-MM-DD; not used after it")

    @validator("questions", each_item=True)
    def _short(cls, value: str) -> str:
        if len(value) > 500:
            raise ValueError("每个问题不超过 500 字")
        return value


class RejectIn(BaseModel):
    """Why a proposal is turned down."""

    reason: StrictStr = Field(..., min_length=1, max_length=500)


class ProposalPublished(ApiModel):
    """A published staff answer and the index it went into."""

    proposal: ProposalOut
    index: IndexOut


class Snippet(ApiModel):
    """Text a liaison can insert into a reply: a record's quote with its citation, or a staff answer."""

    kind: str
    id: str
    title: str
    text: str


PROPOSAL_ID = Path(..., ge=1, le=MAX_ID)


@router.get("/proposals")
def list_proposals(
    _editor: EditorDep,
    services: ServicesDep,
    status: str = Query("pending", regex="^(" + "|".join(PROPOSAL_STATUSES) + ")$"),
) -> list[ProposalOut]:
    """Proposals and staff answers of one status (``all`` for every one), newest first."""
    rows = services.knowledge.staff.find(None if status == "all" else status)
    return [ProposalOut(**row) for row in rows]


def _proposal_fail(exc: Exception) -> HTTPException:
    if isinstance(exc, RecordInvalid):
        return _invalid(exc.errors)
    message = str(exc)
    return HTTPException(404 if message.startswith("没有编号") else 409, message)


@router.put("/proposals/{answer_id}", responses=refusals(404, 409))
def edit_proposal(
    body: ProposalEdit,
    request: Request,
    editor: EditorDep,
    services: ServicesDep,
    answer_id: int = PROPOSAL_ID,
) -> ProposalOut:
    """Edit a pending proposal: question variants, answer, department, related records, review date."""
    fields = body.dict()
    try:
        services.knowledge.check_proposal(fields)
        item = services.knowledge.staff.edit(answer_id, fields, editor["username"])
    except (RecordInvalid, KnowledgeConflict) as exc:
        raise _proposal_fail(exc) from None
    services.audit.record(editor, "kb_proposal_edit", f"staff_answer:{answer_id}", request)
    return ProposalOut(**item)


@router.post("/proposals/{answer_id}/publish", responses=refusals(404, 409))
def publish_proposal(
    request: Request, editor: EditorDep, services: ServicesDep, answer_id: int = PROPOSAL_ID
) -> ProposalPublished:
    """Publish a pending proposal: the bot answers matching questions with it, labelled as staff's."""
    try:
        item, figures = services.knowledge.publish_staff_answer(answer_id, editor["username"])
    except (RecordInvalid, KnowledgeConflict) as exc:
        raise _proposal_fail(exc) from None
    services.audit.record(editor, "kb_proposal_publish", f"staff_answer:{answer_id}", request)
    return ProposalPublished(
        proposal=ProposalOut(**item), index=IndexOut(records=figures["records"], built_ms=figures["built_ms"])
    )


@router.post("/proposals/{answer_id}/reject", responses=refusals(404, 409))
def reject_proposal(
    body: RejectIn, request: Request, editor: EditorDep, services: ServicesDep, answer_id: int = PROPOSAL_ID
) -> ProposalOut:
    """Turn a pending proposal down, with the reason."""
    try:
        item = services.knowledge.staff.reject(answer_id, body.reason, editor["username"])
    except KnowledgeConflict as exc:
        raise _proposal_fail(exc) from None
    services.audit.record(
        editor, "kb_proposal_reject", f"staff_answer:{answer_id}", request, body.reason[:100]
    )
    return ProposalOut(**item)


@router.post("/proposals/{answer_id}/withdraw", responses=refusals(404, 409))
def withdraw_proposal(
    request: Request, editor: EditorDep, services: ServicesDep, answer_id: int = PROPOSAL_ID
) -> ProposalOut:
    """Stop using a published staff answer."""
    try:
        item, _ = services.knowledge.withdraw_staff_answer(answer_id, editor["username"])
    except KnowledgeConflict as exc:
        raise _proposal_fail(exc) from None
    services.audit.record(editor, "kb_proposal_withdraw", f"staff_answer:{answer_id}", request)
    return ProposalOut(**item)


@router.get("/snippets")
def snippets(
    _user: UserDep, services: ServicesDep, q: str = Query(..., min_length=1, max_length=200)
) -> list[Snippet]:
    """快捷回复: records' quotes with their citations and published staff answers that match ``q``."""
    return [Snippet(**item) for item in services.knowledge.snippets(q)]
