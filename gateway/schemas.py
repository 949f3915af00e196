"""Request and response bodies of the gateway's API (pydantic 1, as Rasa 3.6 pins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictStr, validator

from huiqitong.handoff import SENDER_PATTERN, HandoffPacket

__all__ = ["SENDER_PATTERN", "HandoffPacket"]  # re-exported: the API's request bodies live here

# The largest id any route accepts: ids are database integers, and JavaScript counts exactly to here.
MAX_ID = 2**53 - 1
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the case (escalation) id")]


def _nullable(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Say in the OpenAPI schema that an optional field may be null (pydantic 1 leaves it out, and a
    client that validates responses would refuse ``"handoff": null``)."""
    properties = schema.get("properties", {})
    for field in model.__fields__.values():
        prop = properties.get(field.alias)
        if field.allow_none and prop is not None and "anyOf" not in prop:
            title = {"title": prop.pop("title")} if "title" in prop else {}
            properties[field.alias] = {**title, "anyOf": [prop, {"type": "null"}]}


class ApiModel(BaseModel):
    """A response body: optional fields are documented as nullable."""

    class Config:
        schema_extra = staticmethod(_nullable)


class ErrorOut(BaseModel):
    """A refusal: 4xx or 503, with the reason."""

    detail: str


_REFUSALS = {
    400: "bad request (e.g. a conversation id of another channel)",
    401: "missing or invalid credentials (Bearer token or conversation token)",
    403: "not allowed",
    404: "not found (or not visible to you)",
    409: "conflicts with the current state (of a case, a record)",
    413: "text or body too long",
    415: "unsupported file type",
    429: "too many requests; try again later",
    503: "storage or a dependency is temporarily unavailable; nothing was changed",
}


class CSVResponse(Response):
    """A CSV download (UTF-8 with a BOM, so spreadsheets read the Chinese right)."""

    media_type = "text/csv"


def csv_download(filename: str, text: str) -> CSVResponse:
    """``text`` as an attachment named ``filename``."""
    return CSVResponse("\ufeff" + text, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the refusals a route can give (each an ``ErrorOut``)."""
    # Content given, no model: a refusal is JSON even on a route whose own answer is not (a CSV
    # download). ErrorOut joins the document's schemas in gateway.main.
    return {
        code: {
            "description": _REFUSALS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for code in codes
    }


class ChatIn(BaseModel):
    """One owner message."""

    sender_id: StrictStr | None = Field(
        None, regex=SENDER_PATTERN, description="omit to start a new conversation"
    )
    text: StrictStr = Field(..., description="the owner's message")

    @validator("text")
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value


class Button(ApiModel):
    """A suggested reply."""

    title: str
    payload: str


class Source(ApiModel):
    """A cited record of the letter."""

    policy_id: str
    title: str
    section: str
    cited_as: str = Field(
        "答复函", description="how the record's source is cited: 答复函, or a later notice's 文号"
    )


class ReplyOut(ApiModel):
    """One bot reply."""

    text: str
    buttons: list[Button] = []
    sources: list[Source] = []


class HandoffOut(ApiModel):
    """The conversation's open escalation."""

    escalation_id: int
    status: str
    liaison: str


class ChatOut(ApiModel):
    """The bot's answer to one message."""

    sender_id: str
    message_id: int = Field(..., description="the stored id of the owner's message (the stream repeats it)")
    conversation_token: str | None = Field(
        None, description="only when this message started a new conversation"
    )
    replies: list[ReplyOut]
    handoff: HandoffOut | None = None


class ClearOut(ApiModel):
    """The conversation was deleted."""

    cleared: bool
    messages_deleted: int


class MessageOut(ApiModel):
    """A stored message of a conversation."""

    id: int
    role: str
    text: str
    sources: list[Source] = []
    buttons: list[Button] = []
    author: str | None = None
    kind: str = Field(
        "text", description="huiqitong.vocabulary.MESSAGE_KINDS: resumed = a liaison ended the case"
    )
    created_at: str | None = None


class LoginIn(BaseModel):
    """Liaison credentials."""

    username: StrictStr = Field(..., min_length=1, max_length=64)
    password: StrictStr = Field(..., min_length=1, max_length=256)


class TextIn(BaseModel):
    """A liaison's reply or note."""

    text: StrictStr = Field(..., min_length=1, max_length=4000)

    @validator("text")
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value.strip()


class HandoffAck(ApiModel):
    """The gateway's answer to a handoff packet."""

    escalation_id: int
    status: str
    liaison: str
    due_at: str
    due_text: str
    created: bool
