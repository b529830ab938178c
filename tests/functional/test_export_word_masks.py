"""Red team: the case file handed to lawyers, the police or a court shows "▒▒▒" in the
reporter's message, and nothing says who hid the reporter's words or why (portal/
export_pdf.py; docs/access.md, "A mask on a reporter's words").

Lei, on the accused's side, masks the reporter's message that sets out the facts against his
friend. The case page and API tell every case reader who set the mask, when and why, but the
exported file applied the mask and left that out: its reader saw the reporter's words
missing as if the reporter or the portal had withheld them (the audit excerpt says only
"item.masked", not on whose words). Now the file lists each mask on the reporter's words
with who set it, when, its reason and what became of it, beside the conversation."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import sessionmaker
from support.staff_http import bearer

from tests.functional.test_reporter_word_masks import (
    REASON,
    conversation,
    mask_all,
    reporter_item,
    world,
)

pytestmark = pytest.mark.db
__all__ = ["world"]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_exported_case_file_says_who_masked_the_reporters_words_and_why(
    client: Any, world: dict[str, Any], app_db: sessionmaker[Any]
) -> None:
    case_id = conversation(client, world)
    lei, bo = (
        bearer(client, world["lei"], world["clock"]),
        bearer(client, world["bo"], world["clock"]),
    )
    item_id = reporter_item(client, case_id, lei)["id"]
    assert mask_all(client, case_id, item_id, lei).status_code == 201

    exported = client.get(
        f"/api/v1/cases/{case_id}/export.pdf", headers={**bo, "Accept-Language": "en"}
    )
    text = pdf_text(exported.content)

    assert exported.status_code == 200, exported.text[:200]
    assert "Masks on the reporter's words" in text
    assert "Lei" in text
    assert REASON in text
