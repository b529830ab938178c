"""Encrypted files of a case: staff evidence written in chunks, any file read back as a stream."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from cases.db import new_id
from cases.reports.cleaning import DEFAULT_DOCUMENT_BYTES, MetadataCleaner
from cases.reports.models import Attachment, AttachmentChunk
from cases.reports.sealing import FILE_KEY, FILE_META, open_json, seal_json, stream_aad

NAME_MAX = 200
# Staff evidence is linked at once, so it is never swept; the date only keeps the column typed.
NEVER = timedelta(days=36500)


@dataclass(frozen=True)
class FileInfo:
    id: str
    name: str
    type: str
    size: int
    sha256: str
    author: str
    created_on: date
    # Whether identifying metadata was removed; staff see "metadata not removed" otherwise.
    cleaned: bool = False


@dataclass(frozen=True)
class OpenFile:
    """A file whose key was opened after the policy check; lives for one request."""

    info: FileInfo
    case_id: str
    attachment_id: str
    header: bytes
    file_key: bytes


def open_meta(case_key: bytes, attachment: Attachment) -> dict[str, Any]:
    if attachment.meta is None:
        return {"name": "", "type": "application/octet-stream", "size": 0, "sha256": ""}
    meta: dict[str, Any] = open_json(
        case_key, attachment.case_id, FILE_META, attachment.id, attachment.meta
    )
    return meta


def file_info(case_key: bytes, attachment: Attachment) -> FileInfo:
    meta = open_meta(case_key, attachment)
    return FileInfo(
        id=attachment.id,
        name=str(meta.get("name", "")),
        type=str(meta.get("type", "application/octet-stream")),
        size=int(meta.get("size", 0)),
        sha256=str(meta.get("sha256", "")),
        author=attachment.author,
        created_on=attachment.created_on,
        cleaned=bool(meta.get("cleaned", False)),
    )


def open_file_key(case_key: bytes, attachment: Attachment) -> bytes:
    return crypto.open_item(
        case_key, attachment.case_id, FILE_KEY, attachment.id, attachment.file_key
    )


class EvidenceStore:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add_staff_file(
        self,
        case_id: str,
        case_key: bytes,
        staff_id: str,
        name: str,
        media_type: str,
        chunks: Iterable[bytes],
        *,
        today: date,
        now: datetime,
        clean_max_bytes: int = DEFAULT_DOCUMENT_BYTES,
    ) -> FileInfo:
        """Clean and encrypt a file as it arrives; only its sealed name, type, size and hash
        are kept (as for every upload, see cases.reports.cleaning)."""
        attachment_id, file_key = new_id(), crypto.random_key()
        cleaner = MetadataCleaner(clean_max_bytes)
        encryptor = crypto.StreamEncryptor(file_key, stream_aad(case_id, attachment_id))
        row = Attachment(
            id=attachment_id,
            case_id=case_id,
            linked=True,
            author="staff",
            staff_id=staff_id,
            header=encryptor.header,
            file_key=crypto.seal_item(case_key, case_id, FILE_KEY, attachment_id, file_key),
            created_on=today,
            sweep_after=now + NEVER,
        )
        self.db.add(row)
        self.db.flush()
        index = 0
        for piece in chain(chunks, [None]):
            plain = cleaner.finish() if piece is None else cleaner.feed(piece)
            for sealed in encryptor.update(plain):
                index = self._chunk(attachment_id, index, sealed)
        self._chunk(attachment_id, index, encryptor.finalize())
        meta = {
            "name": name.strip()[:NAME_MAX] or "file",
            "type": media_type or "application/octet-stream",
            "size": encryptor.plaintext_size,
            "sha256": encryptor.sha256,
            "cleaned": cleaner.cleaned,
        }
        row.meta = seal_json(case_key, case_id, FILE_META, attachment_id, meta)
        row.complete = True
        row.stored_bytes = encryptor.plaintext_size
        self.db.flush()
        return file_info(case_key, row)

    def _chunk(self, attachment_id: str, index: int, data: bytes) -> int:
        self.db.add(AttachmentChunk(attachment_id=attachment_id, idx=index, data=data))
        self.db.flush()
        return index + 1

    def files(self, case_id: str) -> list[Attachment]:
        stmt = (
            select(Attachment)
            .where(
                Attachment.case_id == case_id,
                Attachment.linked.is_(True),
                Attachment.complete.is_(True),
            )
            .order_by(Attachment.created_on, Attachment.id)
        )
        return list(self.db.scalars(stmt))

    def get(self, case_id: str, attachment_id: str) -> Attachment | None:
        row = self.db.get(Attachment, attachment_id)
        if row is None or row.case_id != case_id or not (row.linked and row.complete):
            return None
        return row

    def stream(self, file: OpenFile) -> Iterator[bytes]:
        """Decrypt chunk by chunk, reading the chunk rows in small batches."""
        aad = stream_aad(file.case_id, file.attachment_id)
        chunks = self._chunks(file.attachment_id)
        return crypto.decrypt_stream(file.file_key, aad, file.header, chunks)

    def _chunks(self, attachment_id: str) -> Iterator[bytes]:
        stmt = (
            select(AttachmentChunk.data)
            .where(AttachmentChunk.attachment_id == attachment_id)
            .order_by(AttachmentChunk.idx)
            .execution_options(yield_per=16)
        )
        yield from self.db.scalars(stmt)
