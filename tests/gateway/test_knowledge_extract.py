"""Editors' uploads: .txt (UTF-8 or GBK), .docx and text-layer .pdf give their text; a scanned PDF, another
type or a broken file get a clear 4xx."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from fastapi import HTTPException
from matplotlib.figure import Figure
from pypdf import PdfWriter

from gateway.routes.knowledge import extract_text

SENTENCE = "对设备购置额500万元以上的设备更新项目，最高300万元。"


def test_text_files_in_utf8_and_gbk() -> None:
    assert extract_text("notice.txt", SENTENCE.encode("utf-8")) == SENTENCE
    assert extract_text("NOTICE.TXT", SENTENCE.encode("gb18030")) == SENTENCE


def test_docx_paragraphs() -> None:
    document = docx.Document()
    document.add_paragraph("关于支持工业企业设备更新的通知")
    document.add_paragraph(SENTENCE)
    buf = io.BytesIO()
    document.save(buf)
    assert extract_text("notice.docx", buf.getvalue()) == f"关于支持工业企业设备更新的通知\n{SENTENCE}"


def test_pdf_with_a_text_layer(tmp_path: Path) -> None:
    figure = Figure()
    figure.text(0.1, 0.5, "Equipment renewal: up to 3,000,000 yuan per project.")
    figure.savefig(tmp_path / "notice.pdf", format="pdf")
    text = extract_text("notice.pdf", (tmp_path / "notice.pdf").read_bytes())
    assert "3,000,000" in text


def test_refusals() -> None:
    scanned = PdfWriter()
    scanned.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    scanned.write(buf)
    with pytest.raises(HTTPException) as refused:
        extract_text("scan.pdf", buf.getvalue())
    assert refused.value.status_code == 400
    assert "扫描件" in str(refused.value.detail)
    with pytest.raises(HTTPException) as refused:
        extract_text("notice.doc", b"\xd0\xcf\x11\xe0")
    assert refused.value.status_code == 415
    with pytest.raises(HTTPException) as refused:
        extract_text("broken.docx", b"not a zip")
    assert refused.value.status_code == 400
