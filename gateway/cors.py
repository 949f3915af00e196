"""Cross-origin access for the widget embedded on the bureau's other sites (ALLOWED_ORIGINS).

Starlette's CORS middleware, applied to the owner-facing routes only: the liaison console and the
admin API stay same-origin whatever ALLOWED_ORIGINS says. Credentials are allowed (the conversation
cookie), so the origins are always an explicit list, never ``*`` (Settings.check refuses it).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

OWNER_PATHS = ("/api/chat", "/api/conversations/", "/api/vocabulary")


class OwnerRoutesCORS(CORSMiddleware):
    """CORSMiddleware for requests whose path starts with one of ``paths``; others pass untouched."""

    def __init__(
        self, app: ASGIApp, allow_origins: Sequence[str], paths: tuple[str, ...] = OWNER_PATHS
    ) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "Accept", "X-Conversation-Token"],
            max_age=600,
        )
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.paths):
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)
