"""Owner-facing chat API: send a message, read a conversation, follow it live (SSE)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import StreamingResponse

from gateway.conversation import handle
from gateway.schemas import SENDER_PATTERN, ChatIn, ChatOut, MessageOut
from gateway.services import ServicesDep
from gateway.store import StoreError

router = APIRouter(prefix="/api", tags=["chat"])
SenderPath = Path(..., pattern=SENDER_PATTERN)


@router.post("/chat", response_model=ChatOut)
async def chat(body: ChatIn, services: ServicesDep) -> dict[str, Any]:
    """Send one owner message; returns the bot's replies, or none while a liaison holds the conversation."""
    limit = services.settings.max_message_chars
    if len(body.text) > limit:
        raise HTTPException(413, f"text is longer than {limit} characters")
    sender_id = body.sender_id or f"web-{uuid.uuid4().hex}"
    if not services.limiter.allow(sender_id):
        raise HTTPException(429, f"too many messages; at most {services.settings.rate_limit_per_minute} a minute")
    try:
        turn = await handle(services, sender_id, body.text, channel="web")
    except StoreError as exc:
        raise HTTPException(503, f"storage unavailable, message not accepted: {exc}") from exc
    # A dict, validated once by response_model (building ChatOut here would validate it twice).
    return {"sender_id": sender_id, "replies": [r.as_dict() for r in turn.replies], "handoff": turn.handoff}


@router.get("/conversations/{sender_id}/messages", response_model=list[MessageOut])
async def conversation_messages(
    services: ServicesDep, sender_id: str = SenderPath, after: int = Query(0, ge=0)
) -> list[MessageOut]:
    """Messages of a conversation with id > ``after``, oldest first."""
    return [MessageOut.parse_obj(m) for m in services.store.messages_after(sender_id, after)]


@router.get("/conversations/{sender_id}/stream")
async def conversation_stream(
    request: Request, services: ServicesDep, sender_id: str = SenderPath, after: int = Query(0, ge=0)
) -> StreamingResponse:
    """Server-sent events: every new message of the conversation (liaison replies arrive live).

    The stream reads the store, so it sees messages written by any gateway worker.
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
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.5)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
