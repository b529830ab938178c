"""Canary strings a reporter sends appear nowhere in clear: database, data dir, temp, logs."""

from __future__ import annotations

import io
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import fields, form_tokens, login, report_body, seed

MAX_SCANNED_FILE = 256 * 1024 * 1024


def files_under(root: Path, since: float) -> Iterator[Path]:
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                stat = path.stat()
            except OSError:
                continue
            if stat.st_mtime >= since and stat.st_size <= MAX_SCANNED_FILE and path.is_file():
                yield path


def holders(paths: list[Path], canaries: list[bytes]) -> list[str]:
    found = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found += [f"{path}: {c!r}" for c in canaries if c in data]
    return found


def test_canaries_never_reach_disk_or_logs(
    client: Any,
    app_db: sessionmaker[Session],
    engine: Engine,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Report fields, subjects, identity, messages, file names and contents stay sealed."""
    caplog.set_level(logging.DEBUG)
    started = time.time() - 1
    tag = secrets.token_hex(6)
    canary = {k: f"CANARY{k.upper()}{tag}" for k in ("sum", "det", "sub", "who", "msg", "fn", "fc")}
    ids = seed(app_db)
    page_fields = fields(
        ids,
        form_tokens(client),
        summary=canary["sum"],
        details=canary["det"],
        subject_name=[canary["sub"]],
        subject_id=[""],
        mode="confidential",
        identity_name=canary["who"],
        identity_contact="canary@example.com",
    )
    upload = (
        "files",
        (f"{canary['fn']}.txt", io.BytesIO(canary["fc"].encode() * 5000), "text/plain"),
    )
    receipt = client.post("/report", data=page_fields, files=[upload]).context["receipt"]
    api_receipt = client.post(
        "/api/v1/reports", json=report_body(ids, summary=canary["sum"], details=canary["det"])
    ).json()["receipt"]
    headers = login(client, api_receipt)
    client.post("/api/v1/reporter/messages", json={"body": canary["msg"]}, headers=headers)
    client.post(
        "/api/v1/reporter/attachments",
        files={
            "file": (f"{canary['fn']}.bin", io.BytesIO(canary["fc"].encode()), "application/pdf")
        },
        headers=headers,
    )
    client.post("/status", data={"csrf": form_tokens(client)["csrf"], "receipt": receipt})

    needles = [c.encode() for c in canary.values()] + [receipt.encode(), api_receipt.encode()]
    needles += [c.encode("utf-16-le") for c in canary.values()]
    paths = list(files_under(data_dir, started)) + list(
        files_under(Path(tempfile.gettempdir()), started)
    )
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database:
        paths += [Path(database + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    out, err = capfd.readouterr()
    assert holders([p for p in paths if p.exists()], needles) == []
    assert not [n for n in needles if n.decode(errors="ignore") in caplog.text]
    assert not [n for n in needles if n.decode(errors="ignore") in out + err]
