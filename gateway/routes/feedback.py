"""Owners' ratings, notices of pushes and the push subscription, for the widget (issue 16).

Every route needs the conversation's secret, like the other conversation routes (``gateway.ownership``).
WeCom owners rate and unsubscribe by replying in WeCom instead (``gateway.feedback``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr, conint

from gateway.data.feedback import Feedback
from gateway.ownership import WEB_CHANNEL, OwnedSender
from gateway.schemas import MAX_ID, ApiModel, refusals
from gateway.services import ServicesDep

router = APIRouter(prefix="/api/conversations", tags=["feedback"])

MAX_REASON_CHARS = 500
MAX_SEEN_IDS = 200
OWNED = refusals(400, 401, 403, 404, 503)
if TYPE_CHECKING:
    Score = int
else:  # strict: 4.5 is refused, not cut to 4
    Score = conint(strict=True, ge=1, le=5)


class RatingIn(BaseModel):
    """An owner's rating of one bot answer."""

    helpful: StrictBool = Field(..., description="有帮助 (true) or 没帮助 (false)")
    reason: StrictStr | None = Field(
        None,
        max_length=MAX_REASON_CHARS,
        description="why it did not help (optional; omitted keeps the last)",
    )


class RatingOut(ApiModel):
    """The stored rating."""

    message_id: int
    helpful: bool
    reason: str
    offer_handoff: bool = Field(..., description="true after 没帮助: the widget offers 转人工")


class SatisfactionIn(BaseModel):
    """An owner's score for a resolved case."""

    score: Score = Field(..., description="1 很不满意 … 5 很满意")
    comment: StrictStr | None = Field(None, max_length=MAX_REASON_CHARS)


class SatisfactionOut(ApiModel):
    """The stored case score."""

    escalation_id: int
    score: int
    comment: str


class AnswerRatingOut(ApiModel):
    """A rating the owner gave an answer."""

    message_id: int
    helpful: bool
    reason: str


class CasePromptOut(ApiModel):
    """A resolved case of the conversation, the "resumed" message that ended it and its score so far."""

    escalation_id: int
    message_id: int
    score: int | None = None
    comment: str = ""


class RatingsOut(ApiModel):
    """The conversation's ratings: what the widget shows as already chosen."""

    answers: list[AnswerRatingOut]
    cases: list[CasePromptOut]


class NoticeOut(ApiModel):
    """A push not yet shown in the widget."""

    id: int
    record_id: str
    text: str
    created_at: str | None = None


class NoticesOut(ApiModel):
    """The conversation's firm's unseen pushes and its subscription."""

    firm: bool = Field(..., description="whether the conversation belongs to a registered firm")
    subscribed: bool
    notices: list[NoticeOut]


class SeenIn(BaseModel):
    """Pushes the widget has shown."""

    ids: list[StrictInt] = Field(..., max_items=MAX_SEEN_IDS)


class SeenOut(ApiModel):
    """How many pushes were marked as seen."""

    marked: int


class SubscriptionIn(BaseModel):
    """接收政策推送: on or off."""

    subscribed: StrictBool


class SubscriptionOut(ApiModel):
    """The firm's push subscription."""

    subscribed: bool


MessageId = Path(..., ge=1, le=MAX_ID, description="a bot message of the conversation")
EscalationId = Path(..., ge=1, le=MAX_ID, description="a resolved case of the conversation")


@router.post("/{sender_id}/messages/{message_id}/rating", response_model=RatingOut, responses=OWNED)
def rate_answer(
    services: ServicesDep, sender_id: OwnedSender, body: RatingIn, message_id: int = MessageId
) -> RatingOut:
    """有帮助 / 没帮助 for one bot message of the conversation; rating again changes the rating.

    404 when ``message_id`` is not a bot message of this conversation.
    """
    reason = body.reason.strip() if body.reason is not None else None
    rating = Feedback(services.store).rate_answer(sender_id, message_id, body.helpful, reason, WEB_CHANNEL)
    if rating is None:
        raise HTTPException(404, "no such bot message in this conversation")
    helpful = bool(rating["value"])
    return RatingOut(
        message_id=message_id, helpful=helpful, reason=rating["reason"], offer_handoff=not helpful
    )


@router.post(
    "/{sender_id}/escalations/{escalation_id}/satisfaction", response_model=SatisfactionOut, responses=OWNED
)
def rate_case(
    services: ServicesDep, sender_id: OwnedSender, body: SatisfactionIn, escalation_id: int = EscalationId
) -> SatisfactionOut:
    """A 1–5 satisfaction score (and an optional comment) for a resolved case of the conversation.

    404 unless the case is this conversation's and resolved.
    """
    comment = body.comment.strip() if body.comment is not None else None
    rating = Feedback(services.store).rate_case(sender_id, escalation_id, body.score, comment, WEB_CHANNEL)
    if rating is None:
        raise HTTPException(404, "no resolved case with this id in this conversation")
    return SatisfactionOut(escalation_id=escalation_id, score=rating["value"], comment=rating["reason"])


@router.get("/{sender_id}/ratings", response_model=RatingsOut, responses=OWNED)
def conversation_ratings(services: ServicesDep, sender_id: OwnedSender) -> RatingsOut:
    """The ratings given in this conversation, and its resolved cases (with the "resumed" message that
    ended each) to ask a score for."""
    data = Feedback(services.store)
    return RatingsOut(
        answers=[
            AnswerRatingOut(message_id=r["message_id"] or 0, helpful=bool(r["value"]), reason=r["reason"])
            for r in data.answer_ratings(sender_id)
        ],
        cases=[CasePromptOut(**c) for c in data.case_prompts(sender_id)],
    )


@router.get("/{sender_id}/notices", response_model=NoticesOut, responses=OWNED)
def notices(services: ServicesDep, sender_id: OwnedSender) -> NoticesOut:
    """The pushes of the conversation's firm not yet shown (oldest first), and whether it receives pushes."""
    data = Feedback(services.store)
    uscc = data.firm_of(sender_id)
    if uscc is None:
        return NoticesOut(firm=False, subscribed=False, notices=[])
    return NoticesOut(
        firm=True,
        subscribed=data.subscribed(uscc),
        notices=[NoticeOut(**n) for n in data.unseen_notices(uscc)],
    )


@router.post("/{sender_id}/notices/seen", response_model=SeenOut, responses=OWNED)
def notices_seen(services: ServicesDep, sender_id: OwnedSender, body: SeenIn) -> SeenOut:
    """Mark pushes as shown; ids of other firms' pushes are ignored."""
    data = Feedback(services.store)
    uscc = data.firm_of(sender_id)
    ids = [i for i in body.ids if 1 <= i <= MAX_ID]
    return SeenOut(marked=data.mark_seen(uscc, ids) if uscc else 0)


@router.put(
    "/{sender_id}/subscription",
    response_model=SubscriptionOut,
    responses=refusals(400, 401, 403, 404, 409, 503),
)
def subscription(services: ServicesDep, sender_id: OwnedSender, body: SubscriptionIn) -> SubscriptionOut:
    """接收政策推送 on or off for the conversation's firm. 409 when the conversation has no firm."""
    data = Feedback(services.store)
    uscc = data.firm_of(sender_id)
    if uscc is None:
        raise HTTPException(409, "this conversation belongs to no registered firm")
    return SubscriptionOut(subscribed=data.set_subscribed(uscc, body.subscribed, WEB_CHANNEL))
