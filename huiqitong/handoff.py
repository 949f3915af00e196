"""The handoff packet: what a liaison gets when a conversation goes to a person. The action server
builds it, the gateway's busy path builds it when Rasa is down, and ``POST /internal/handoff``
validates it: one type for all three."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, validator

from huiqitong.vocabulary import HANDOFF_REASONS

# A conversation id: the widget's web-…, wecom:…, wecomkf:…, a Rasa REST sender.
SENDER_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"


class Citation(BaseModel):
    """A record the bot quoted before the handoff."""

    policy_id: str
    title: str = ""
    section: str = ""
    departments: list[str] = []


class HandoffPacket(BaseModel):
    """Everything a liaison needs to take over without asking the owner again."""

    sender_id: str = Field(..., regex=SENDER_PATTERN)
    channel: str = "rest"
    firm: dict[str, Any] = {}
    intent: str | None = None
    reason: str = "user_request"
    slots: dict[str, Any] = {}
    question: str = ""
    citations: list[Citation] = []
    last_turns: list[dict[str, Any]] = []

    @validator("reason")
    def _known_reason(cls, value: str) -> str:
        if value not in HANDOFF_REASONS:
            raise ValueError(f"reason must be one of {sorted(HANDOFF_REASONS)}")
        return value

    def payload(self) -> dict[str, Any]:
        """The JSON body (for the action server's POST and the gateway's store)."""
        return self.dict()
