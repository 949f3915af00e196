"""The console's dashboard (issue 16; to be written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=[" figures by day/week, unanswered demand, service, as JSON and CSV:dashboard"])
