"""The domain's vocabulary for the console and the widget (``huiqitong.vocabulary``), so neither keeps
its own copy of level, fact, reason, channel or message-kind names."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.schemas import ApiModel
from huiqitong import vocabulary

router = APIRouter(prefix="/api", tags=["vocabulary"])


class VocabularyOut(ApiModel):
    """Names and their Chinese labels."""

    zjtx_levels: list[str]
    facts: dict[str, str]
    identity: dict[str, str]
    case_statuses: dict[str, str]
    sla_states: dict[str, str]
    handoff_reasons: dict[str, str]
    channels: dict[str, str]
    message_roles: dict[str, str]
    message_kinds: dict[str, str]
    case_events: dict[str, str]
    outcomes: dict[str, str]


@router.get("/vocabulary", response_model=VocabularyOut)
def get_vocabulary(response: Response) -> dict[str, object]:
    """专精特新 levels, firm facts, handoff reasons, channels, message roles and kinds, case events,
    each with its label (public; cacheable for an hour)."""
    response.headers["Cache-Control"] = "public, max-age=3600"
    return vocabulary.as_json()
