"""HTML pages: the widget demo page and the liaison console."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from huiqitong.settings import ROOT

router = APIRouter(tags=["pages"])
templates = Jinja2Templates(directory=str(ROOT / "gateway" / "templates"))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request) -> HTMLResponse:
    """Demo page embedding the chat widget."""
    return templates.TemplateResponse(request, "index.html", {"base_url": ""})


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
async def console(request: Request) -> HTMLResponse:
    """Liaison console (login, queues, cases)."""
    return templates.TemplateResponse(request, "console.html", {"base_url": ""})
