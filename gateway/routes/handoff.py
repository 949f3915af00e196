"""Internal endpoint the action server calls to hand a conversation to a person."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException

from gateway.schemas import HandoffAck, HandoffPacket, refusals
from gateway.services import ServicesDep
from gateway.sla import due_text

router = APIRouter(prefix="/internal", tags=["internal"])
logger = logging.getLogger(__name__)


@router.post("/handoff", response_model=HandoffAck, responses=refusals(403, 503))
async def handoff(
    packet: HandoffPacket, services: ServicesDep, x_handoff_secret: Annotated[str | None, Header()] = None
) -> HandoffAck:
    """Create the escalation for a handoff packet (idempotent: one open escalation per conversation)."""
    if not x_handoff_secret or not hmac.compare_digest(x_handoff_secret, services.settings.handoff_secret):
        logger.warning("handoff refused: bad or missing shared secret for %s", packet.sender_id)
        raise HTTPException(403, "bad handoff secret")
    esc, created = await services.db(services.escalations.create, packet.payload())
    if created:
        await services.notify(esc, "created")
    liaison = await services.db(services.escalations.label, esc)
    due = datetime.fromisoformat(esc["first_response_due"])
    return HandoffAck(
        escalation_id=esc["id"],
        status=esc["status"],
        liaison=liaison,
        due_at=esc["first_response_due"],
        due_text=due_text(due),
        created=created,
    )
