"""Who may read or write a web conversation: the holder of its secret.

The first ``POST /api/chat`` of a conversation gets an unguessable id (``web-…``) and a secret
(``conversation_token``). The store keeps only the secret's SHA-256. Later requests prove ownership
with the ``X-Conversation-Token`` header or the HttpOnly cookie ``hqt_<sender_id>`` (EventSource
cannot send headers). Conversations of other channels (``wecom:…``, ``wecomkf:…``) are never served
by the web API: their ids carry a channel prefix, and their channels prove identity themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Path, Request, Response

from gateway.schemas import SENDER_PATTERN
from gateway.services import ServicesDep

COOKIE_PREFIX = "hqt_"
WEB_CHANNEL = "web"


def new_sender_id() -> str:
    """An unguessable web conversation id."""
    return f"web-{secrets.token_urlsafe(18)}"


def new_secret() -> str:
    """A conversation secret (256 bits)."""
    return secrets.token_urlsafe(32)


def secret_hash(token: str) -> str:
    """What the store keeps of a secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def other_channel(sender_id: str) -> str | None:
    """The channel prefix of an id that is not a web conversation's (``wecom`` for ``wecom:zhangsan``)."""
    return sender_id.split(":", 1)[0] if ":" in sender_id else None


def refuse_other_channel(sender_id: str) -> None:
    """400 for an id of another channel: the web API serves web conversations only."""
    prefix = other_channel(sender_id)
    if prefix is not None:
        raise HTTPException(400, f"conversation ids of the {prefix!r} channel are not served by the web API")


def cookie_name(sender_id: str) -> str:
    """The cookie that carries one conversation's secret (one per conversation: several sites may embed us)."""
    return COOKIE_PREFIX + sender_id


def presented_secret(request: Request, sender_id: str, header: str | None) -> str | None:
    """The secret a request presents for ``sender_id``: the header first, else the cookie."""
    return (header or "").strip() or request.cookies.get(cookie_name(sender_id)) or None


def owns(conversation: dict[str, Any] | None, secret: str | None) -> bool:
    """Whether ``secret`` is the secret of this web conversation."""
    if not conversation or not secret or conversation.get("channel") != WEB_CHANNEL:
        return False
    stored = conversation.get("token_hash")
    return bool(stored) and hmac.compare_digest(str(stored), secret_hash(secret))


def _over_https(request: Request) -> bool:
    """Whether the owner's browser talks HTTPS to us (directly or through a proxy)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def set_secret_cookie(
    response: Response, request: Request, sender_id: str, secret: str, max_age_s: int
) -> None:
    """The secret as an HttpOnly cookie scoped to the API.

    Over HTTPS it is ``SameSite=None; Secure`` so that the widget embedded on another allowed site
    still sends it; over plain HTTP (development) browsers refuse ``SameSite=None`` without
    ``Secure``, so it is ``Lax`` (enough for the same site, any port).
    """
    https = _over_https(request)
    response.set_cookie(
        cookie_name(sender_id),
        secret,
        max_age=max_age_s,
        path="/api",
        httponly=True,
        secure=https,
        samesite="none" if https else "lax",
    )


def clear_secret_cookie(response: Response, request: Request, sender_id: str) -> None:
    """Delete the conversation's cookie (the owner cleared the conversation)."""
    https = _over_https(request)
    response.delete_cookie(
        cookie_name(sender_id), path="/api", httponly=True, secure=https, samesite="none" if https else "lax"
    )


def owned_conversation(
    request: Request,
    services: ServicesDep,
    sender_id: str = Path(..., pattern=SENDER_PATTERN),
    x_conversation_token: Annotated[str | None, Header()] = None,
) -> str:
    """The path's conversation id when the request holds its secret.

    Raises:
        HTTPException: 400 for another channel's id, 404 for an unknown one, 401 without a secret,
            403 with a wrong secret.
    """
    refuse_other_channel(sender_id)
    conversation = services.store.conversation(sender_id)
    if conversation is None:
        raise HTTPException(404, "conversation not found")
    secret = presented_secret(request, sender_id, x_conversation_token)
    if secret is None:
        raise HTTPException(401, "this conversation needs its X-Conversation-Token (or its cookie)")
    if not owns(conversation, secret):
        raise HTTPException(403, "wrong conversation token")
    return sender_id


OwnedSender = Annotated[str, Depends(owned_conversation)]
