"""Request and response bodies of the gateway's API (pydantic 1, as Rasa 3.6 pins)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictStr, validator

SENDER_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"


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


class Button(BaseModel):
    """A suggested reply."""

    title: str
    payload: str


class Source(BaseModel):
    """A cited record of the letter."""

    policy_id: str
    title: str
    section: str


class ReplyOut(BaseModel):
    """One bot reply."""

    text: str
    buttons: list[Button] = []
    sources: list[Source] = []


class HandoffOut(BaseModel):
    """The conversation's open escalation."""

    escalation_id: int
    status: str
    liaison: str


class ChatOut(BaseModel):
    """The bot's answer to one message."""

    sender_id: str
    conversation_token: str | None = Field(
        None, description="only when this message started a new conversation"
    )
    replies: list[ReplyOut]
    handoff: HandoffOut | None = None


class ClearOut(BaseModel):
    """The conversation was deleted."""

    cleared: bool
    messages_deleted: int


class MessageOut(BaseModel):
    """A stored message of a conversation."""

    id: int
    role: str
    text: str
    sources: list[Source] = []
    buttons: list[Button] = []
    author: str | None = None
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


class HandoffPacket(BaseModel):
    """What the action server sends when a conversation needs a person."""

    sender_id: str = Field(..., regex=SENDER_PATTERN)
    channel: str = "rest"
    firm: dict[str, Any] = {}
    intent: str | None = None
    reason: str = "user_request"
    slots: dict[str, Any] = {}
    question: str = ""
    citations: list[dict[str, Any]] = []
    last_turns: list[dict[str, Any]] = []


class HandoffAck(BaseModel):
    """The gateway's answer to a handoff packet."""

    escalation_id: int
    status: str
    liaison: str
    due_at: str
    due_text: str
    created: bool
