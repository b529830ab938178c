"""How each kind of case item is sealed: one purpose string per kind, ids bound as AAD.

Every area (reporter pages, staff casework, rewards) seals and opens through these
helpers so the purposes and layouts never drift apart.
"""

from __future__ import annotations

import json
from typing import Any

import crypto

REPORT = "report"
SUBJECT = "subject"
MESSAGE = "message"
NOTE = "note"
EVENT_REASON = "event-reason"
MASK_REASON = "mask-reason"
FILE_KEY = "file-key"
FILE_META = "file-meta"
IDENTITY = "identity"
REWARD_NOTE = "reward-note"
PAYOUT = "payout"


def seal_json(case_key: bytes, case_id: str, purpose: str, item_id: str, value: Any) -> bytes:
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return crypto.seal_item(case_key, case_id, purpose, item_id, raw)


def open_json(case_key: bytes, case_id: str, purpose: str, item_id: str, blob: bytes) -> Any:
    return json.loads(crypto.open_item(case_key, case_id, purpose, item_id, blob))


def seal_text(case_key: bytes, case_id: str, purpose: str, item_id: str, text: str) -> bytes:
    return seal_json(case_key, case_id, purpose, item_id, {"text": text})


def open_text(case_key: bytes, case_id: str, purpose: str, item_id: str, blob: bytes) -> str:
    value = open_json(case_key, case_id, purpose, item_id, blob)
    return str(value["text"])


def stream_aad(case_id: str, attachment_id: str) -> bytes:
    """Binds every chunk of a file to its case and attachment row."""
    return f"attachment|{case_id}|{attachment_id}".encode()
