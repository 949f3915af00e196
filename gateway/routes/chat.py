"""Owner-facing chat API: send a message, read a conversation, follow it live (SSE), clear it.

A web conversation belongs to whoever holds its secret (``gateway.ownership``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from gateway import ownership
from gateway.conversation import process
from gateway.data import retention
from gateway.data.escalations import Arrival
from gateway.data.store import StoreError
from gateway.ownership import OwnedSender
from gateway.schemas import MAX_ID, ChatIn, ChatOut, ClearOut, MessageOut, refusals
from gateway.services import Services, ServicesDep

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


@router.post("/chat", response_model=ChatOut, responses=refusals(400, 401, 403, 413, 429, 503))
async def chat(
    body: ChatIn,
    request: Request,
    services: ServicesDep,
    x_conversation_token: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Send one owner message; returns the bot's replies, or none while a liaison holds the conversation.

    Without ``sender_id`` (or with an unknown or expired one) a new conversation starts: the answer
    then carries its ``sender_id`` and ``conversation_token`` and sets the token as an HttpOnly
    cookie. Later messages prove ownership with ``X-Conversation-Token`` or that cookie.
    """
    limit = services.settings.max_message_chars
    if len(body.text) > limit:
        raise HTTPException(413, f"text is longer than {limit} characters")
    client = request.client.host if request.client else "?"
    try:
        sender_id, secret, message_id, arrival = await services.db(
            _admit, services, request, body, x_conversation_token, client
        )
        turn = await process(services, message_id, sender_id, body.text, ownership.WEB_CHANNEL, arrival)
    except StoreError as exc:
        raise HTTPException(503, f"storage unavailable, message not accepted: {exc}") from exc
    # ChatOut's shape, built by the gateway itself (Reply.as_dict, handoff_view): returned as is, not
    # validated and re-encoded by response_model on every turn (which documents it).
    answer = JSONResponse(
        {
            "sender_id": sender_id,
            "message_id": message_id,
            "conversation_token": secret,
            "replies": [r.as_dict() for r in turn.replies],
            "handoff": turn.handoff,
        }
    )
    if secret is not None:
        ownership.set_secret_cookie(
            answer, request, sender_id, secret, services.settings.retention_days * 86400
        )
    return answer


def _admit(
    services: Services, request: Request, body: ChatIn, presented: str | None, client: str
) -> tuple[str, str | None, int, Arrival]:
    """Admit and store a message, in one trip to the database thread: to the given conversation when
    the request may write to it, else to a new one (created with its secret, returned), within the
    rate limits. Returns the conversation, the new secret or None, the stored message's id and what
    ``process`` needs to know of the conversation. Blocking: run it with ``services.db``."""
    sender = _claim_sender(services, request, body.sender_id, presented)
    secret = None
    if sender is None:
        if not services.new_conversations.allow(client):
            raise HTTPException(429, "too many new conversations from this address; try again in a minute")
        sender, secret = ownership.new_sender_id(), ownership.new_secret()
    if not services.limiter.allow(sender):
        raise HTTPException(
            429, f"too many messages; at most {services.settings.rate_limit_per_minute} a minute"
        )
    token_hash = ownership.secret_hash(secret) if secret is not None else None
    message_id, arrival = services.escalations.receive(sender, body.text, ownership.WEB_CHANNEL, token_hash)
    return sender, secret, message_id, arrival


OWNED = refusals(400, 401, 403, 404, 503)


@router.get("/conversations/{sender_id}/messages", response_model=list[MessageOut], responses=OWNED)
def conversation_messages(
    services: ServicesDep, sender_id: OwnedSender, after: int = Query(0, ge=0, le=MAX_ID)
) -> list[MessageOut]:
    """Messages of a conversation with id > ``after``, oldest first (needs the conversation's secret)."""
    return [MessageOut.parse_obj(m) for m in services.store.messages_after(sender_id, after)]


@router.delete("/conversations/{sender_id}", response_model=ClearOut, responses=OWNED)
async def clear_conversation(
    request: Request,
    response: Response,
    services: ServicesDep,
    sender_id: OwnedSender,
) -> dict[str, Any]:
    """清除记录: delete the conversation and end its secret; an open case with a liaison is withdrawn."""
    deleted = await services.db(retention.forget, services.store, sender_id)
    try:
        await services.rasa.forget(sender_id)
    except Exception as exc:  # noqa: BLE001 - the store copy is gone; Rasa's in-memory copy ends with its process
        logger.warning("could not empty Rasa's tracker of %s: %s", sender_id, exc)
    await services.db(retention.delete_tracker_events, services.settings, sender_id=sender_id)
    ownership.clear_secret_cookie(response, request, sender_id)
    return {"cleared": True, "messages_deleted": deleted}


KEEP_ALIVE_S = 15.0


@router.get(
    "/conversations/{sender_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}, **OWNED},
)
async def conversation_stream(
    request: Request,
    services: ServicesDep,
    sender_id: OwnedSender,
    after: int = Query(0, ge=0, le=MAX_ID),
) -> StreamingResponse:
    """Server-sent events: every new message of the conversation (liaison replies arrive live).

    EventSource sends the conversation's cookie. The stream is woken when a message is stored
    (``gateway.bus``: in this process, and from other workers by PostgreSQL NOTIFY) and rereads the
    store every ``STREAM_FALLBACK_POLL_S`` as well; it ends when the conversation is cleared.
    """
    fallback = services.settings.stream_fallback_poll_s

    async def events() -> AsyncIterator[str]:
        last = after
        quiet = 0.0
        yield "retry: 1000\n\n"
        with services.bus.subscribe(sender_id) as woken:
            while not await request.is_disconnected():
                woken.clear()  # before reading: a message stored from now on wakes the next wait
                batch = await services.db(services.store.messages_after, sender_id, last)
                for message in batch:
                    last = message["id"]
                    yield f"id: {last}\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"
                if batch:
                    quiet = 0.0
                if quiet >= KEEP_ALIVE_S:
                    quiet = 0.0
                    if await services.db(services.store.conversation, sender_id) is None:
                        return
                    yield ": keep-alive\n\n"
                started = time.monotonic()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(woken.wait(), timeout=min(fallback, KEEP_ALIVE_S))
                quiet += time.monotonic() - started

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
