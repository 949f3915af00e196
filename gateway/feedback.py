"""Owners' feedback and push subscription handled by the gateway itself (issue 16).

To be written: ratings of answers (widget buttons; WeCom "1"/"2" after a short prompt), the 1–5
satisfaction score after a resolved case, and 退订/订阅 in WeCom.
"""

from __future__ import annotations

from typing import Any

from gateway.services import Services


async def intercept(
    services: Services, message_id: int, sender_id: str, text: str, channel: str
) -> list[dict[str, Any]] | None:
    """The gateway's own reply rows (text, buttons, kind) when the message is a rating or 退订/订阅 for
    this conversation; None when it is for the bot."""
    del services, message_id, sender_id, text, channel
    return None
