"""精准推送 for editors (issue 16; to be written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=[" the firms a published record fits, sending pushes, the push log:pushes"])
