"""Owners' ratings, notices of pushes and the push subscription (widget and API) (issue 16; to be written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["feedback"])
