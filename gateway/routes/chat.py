"""Owner-facing chat API: send a message, read a conversation, follow it live (SSE), clear it.

A web conversation belongs to whoever holds its secret (``gateway.ownership``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse

from gateway import ownership, retention
from gateway.conversation import handle
from gateway.ownership import OwnedSender
from gateway.schemas import ChatIn, ChatOut, ClearOut, MessageOut
from gateway.services import Services, ServicesDep
from gateway.store import StoreError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["chat"])


def _claim_sender(
    services: Services, request: Request, sender_id: str | None, secret: str | None
) -> str | None:
    """The given conversation id when the request may write to it; None to start a new conversation.

    Raises:
        HTTPException: 400 for another channel's id, 401/403 for a web conversation without its secret.
    """
    if not sender_id:
        return None
    ownership.refuse_other_channel(sender_id)
    conversation = services.store.conversation(sender_id)
    if conversation is None or not conversation.get("token_hash"):
        return None  # unknown, purged, or from before conversations had secrets: start afresh
    secret = ownership.presented_secret(request, sender_id, secret)
    if secret is None:
        raise HTTPException(401, "this conversation needs its X-Conversation-Token (or its cookie)")
    if not ownership.owns(conversation, secret):
        raise HTTPException(403, "wrong conversation token")
    return sender_id


@router.post("/chat", response_model=ChatOut)
async def chat(
    body: ChatIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    x_conversation_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Send one owner message; returns the bot's replies, or none while a liaison holds the conversation.

    Without ``sender_id`` (or with an unknown or expired one) a new conversation starts: the answer
    then carries its ``sender_id`` and ``conversation_token`` and sets the token as an HttpOnly
    cookie. Later messages prove ownership with ``X-Conversation-Token`` or that cookie.
    """
    limit = services.settings.max_message_chars
    if len(body.text) > limit:
        raise HTTPException(413, f"text is longer than {limit} characters")
    sender_id = _claim_sender(services, request, body.sender_id, x_conversation_token)
    secret = None
    if sender_id is None:
        if not services.new_conversations.allow(request.client.host if request.client else "?"):
            raise HTTPException(429, "too many new conversations from this address; try again in a minute")
        sender_id, secret = ownership.new_sender_id(), ownership.new_secret()
        try:
            services.store.start_conversation(sender_id, ownership.WEB_CHANNEL, ownership.secret_hash(secret))
        except StoreError as exc:
            raise HTTPException(503, f"storage unavailable, message not accepted: {exc}") from exc
        ownership.set_secret_cookie(
            response, request, sender_id, secret, services.settings.retention_days * 86400
        )
    if not services.limiter.allow(sender_id):
        raise HTTPException(
            429, f"too many messages; at most {services.settings.rate_limit_per_minute} a minute"
        )
    try:
        turn = await handle(services, sender_id, body.text, channel=ownership.WEB_CHANNEL)
    except StoreError as exc:
        raise HTTPException(503, f"storage unavailable, message not accepted: {exc}") from exc
    # A dict, validated once by response_model (building ChatOut here would validate it twice).
    return {
        "sender_id": sender_id,
        "conversation_token": secret,
        "replies": [r.as_dict() for r in turn.replies],
        "handoff": turn.handoff,
    }


@router.get("/conversations/{sender_id}/messages", response_model=list[MessageOut])
async def conversation_messages(
    services: ServicesDep, sender_id: OwnedSender, after: int = Query(0, ge=0)
) -> list[MessageOut]:
    """Messages of a conversation with id > ``after``, oldest first (needs the conversation's secret)."""
    return [MessageOut.parse_obj(m) for m in services.store.messages_after(sender_id, after)]


@router.delete("/conversations/{sender_id}", response_model=ClearOut)
async def clear_conversation(
    request: Request,
    response: Response,
    services: ServicesDep,
    sender_id: OwnedSender,
) -> dict[str, Any]:
    """清除记录: delete the conversation and end its secret; an open case with a liaison is withdrawn."""
    deleted = retention.forget(services.store, sender_id)
    try:
        await services.rasa.forget(sender_id)
    except Exception as exc:  # noqa: BLE001 - the store copy is gone; Rasa's in-memory copy ends with its process
        logger.warning("could not empty Rasa's tracker of %s: %s", sender_id, exc)
    await asyncio.to_thread(retention.delete_tracker_events, services.settings, sender_id=sender_id)
    ownership.clear_secret_cookie(response, request, sender_id)
    return {"cleared": True, "messages_deleted": deleted}


@router.get("/conversations/{sender_id}/stream")
async def conversation_stream(
    request: Request, services: ServicesDep, sender_id: OwnedSender, after: int = Query(0, ge=0)
) -> StreamingResponse:
    """Server-sent events: every new message of the conversation (liaison replies arrive live).

    EventSource sends the conversation's cookie. The stream reads the store, so it sees messages
    written by any gateway worker; it ends when the conversation is cleared.
    """

    async def events() -> AsyncIterator[str]:
        last = after
        idle = 0.0
        yield "retry: 1000\n\n"
        while not await request.is_disconnected():
            batch = services.store.messages_after(sender_id, last)
            for message in batch:
                last = message["id"]
                yield f"id: {last}\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"
            idle = 0.0 if batch else idle + 0.5
            if idle >= 15:
                idle = 0.0
                if services.store.conversation(sender_id) is None:
                    return
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.5)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
