"""`portal backup` and `portal restore`, run as the operator runs them, while reports arrive.

Every receipt acknowledged before the backup began logs in after the restore and every file it
added reads back byte for byte through the staff API; a report acknowledged during the backup
is either wholly there or wholly absent (a consistent snapshot); a restore under another
secret is refused in plain words.
"""

from __future__ import annotations

import io
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient
from support.arrivals import list_arrivals
from support.cli import operator_env, run_portal
from support.staff_world import SECRET, Person, build_world

from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from portal.app import create_app
from portal.settings import Settings


@dataclass
class Filed:
    receipt: str
    files: list[bytes] = field(default_factory=list)


@dataclass
class Place:
    """One deployment: its settings, the environment `portal` runs with, its URL."""

    settings: Settings
    env: dict[str, str]


def place(tmp_path: Path, name: str, url: str, secret: bytes = SECRET) -> Place:
    data = tmp_path / name
    data.mkdir(mode=0o700)
    env = operator_env(
        PORTAL_DATA_DIR=str(data),
        PORTAL_DATABASE_URL=url,
        PORTAL_SECRET_KEY=secret.decode(),
        PORTAL_KDF_PROFILE="owasp",
    )
    return Place(Settings.for_tests(data, url, secret_key=_secret(secret)), env)


def _secret(value: bytes) -> Any:
    from portal.settings import Secret

    return Secret(value)


def empty_url(fresh_database: Callable[..., str], tmp_path: Path, name: str) -> str:
    """An empty database: a new PostgreSQL database, or a SQLite file not made yet."""
    url = fresh_database(migrate=False)
    if make_url(url).get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / name / 'portal.db'}"
    return url


@pytest.fixture
def origin(fresh_database: Callable[..., str], tmp_path: Path) -> Iterator[tuple[Place, Any]]:
    """A running portal on its own database, with one investigator; and its app."""
    here = place(tmp_path, "origin", fresh_database())
    engine = make_engine(here.settings.database_url)
    with unit_of_work(session_factory(engine, SECRET)) as db:
        world = build_world(db, FixedClock())
        world.staff("ana@example.com")
        ids = (world.channel.id, world.category("order-diversion").id)
    app = create_app(here.settings, engine=engine)
    app.state.ids = ids
    app.state.ana = world.people["ana@example.com"]
    yield here, app
    engine.dispose()


def file_one(client: TestClient, ids: tuple[str, str], files: int = 2) -> Filed:
    body = {"channel": ids[0], "category": ids[1], "summary": "Diverted", "details": "Acme"}
    answer = client.post("/api/v1/reports", json=body)
    assert answer.status_code == 201, answer.text
    filed = Filed(answer.json()["receipt"])
    token = client.post("/api/v1/reporter/session", json={"receipt": filed.receipt}).json()
    auth = {"Authorization": f"Bearer {token['token']}"}
    for n in range(files):
        content = secrets.token_bytes(70_000 + n)
        upload = client.post(
            "/api/v1/reporter/attachments",
            files={"file": (f"f{n}.bin", io.BytesIO(content), "application/octet-stream")},
            headers=auth,
        )
        assert upload.status_code == 201, upload.text
        filed.files.append(content)
    return filed


def staff_files(client: TestClient, ana: Person) -> dict[bytes, int]:
    """Every attachment the investigator can download, by content (how many of each)."""
    clock = FixedClock()
    body = {"email": ana.account.email, "password": ana.password, "totp": ana.code(clock)}
    session = client.post("/api/v1/staff/session", json=body)
    assert session.status_code == 200, session.text
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    found: dict[bytes, int] = {}
    listing: list[dict[str, Any]] = []
    cursor: str | None = "0"
    while cursor is not None:
        page = client.get(f"/api/v1/cases?cursor={cursor}", headers=auth).json()
        listing += page["items"]
        cursor = page["next"]
    for item in listing:
        case = client.get(f"/api/v1/cases/{item['id']}", headers=auth).json()
        for attachment in case["attachments"]:
            got = client.get(
                f"/api/v1/cases/{item['id']}/attachments/{attachment['id']}", headers=auth
            )
            assert got.status_code == 200
            found[got.content] = found.get(got.content, 0) + 1
    return found


def test_backup_during_submissions_restores_every_acknowledged_report(
    origin: tuple[Place, Any], fresh_database: Callable[..., str], tmp_path: Path
) -> None:
    """Back up while reports keep coming; restore elsewhere with the same secret: every
    receipt acknowledged before the backup logs in and each of its files reads back exactly;
    of what arrived during it nothing is half there (no file without its report, no file
    that differs from what was uploaded)."""
    here, app = origin
    with TestClient(app, base_url="https://testserver") as client:
        before = [file_one(client, app.state.ids) for _ in range(3)]
        during: list[Filed] = []
        stop = threading.Event()

        def keep_filing() -> None:
            with TestClient(app, base_url="https://testserver") as other:
                while not stop.is_set():
                    during.append(file_one(other, app.state.ids, files=1))

        filer = threading.Thread(target=keep_filing)
        filer.start()
        try:
            made = run_portal("backup", str(tmp_path / "snap.backup"), env=here.env, cwd=tmp_path)
        finally:
            stop.set()
            filer.join(60)
    assert made.returncode == 0, made.stdout + made.stderr
    assert (tmp_path / "snap.backup").stat().st_mode & 0o777 == 0o600
    assert len(during) >= 1  # submissions really did continue around the backup

    there = place(tmp_path, "restored", empty_url(fresh_database, tmp_path, "restored"))
    restored = run_portal("restore", str(tmp_path / "snap.backup"), env=there.env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stdout + restored.stderr

    engine = make_engine(there.settings.database_url)
    list_arrivals(session_factory(engine, SECRET))  # the restored portal's jobs round, at the hour
    restored_app = create_app(there.settings, engine=engine)
    restored_app.state.clock = FixedClock()  # the investigator's TOTP code is made for it
    try:
        with TestClient(restored_app, base_url="https://testserver") as c:
            logins = {
                f.receipt: c.post("/api/v1/reporter/session", json={"receipt": f.receipt})
                for f in before + during
            }
            downloads = staff_files(c, app.state.ana)
    finally:
        engine.dispose()

    for filed in before:
        assert logins[filed.receipt].status_code == 200
        assert all(downloads.get(content) == 1 for content in filed.files)
    uploaded = {content for filed in before + during for content in filed.files}
    for filed in during:
        # A report filed during the backup is in the copy or not, and a file added to it
        # after the snapshot may be missing; but no file is ever there without its report.
        assert logins[filed.receipt].status_code in {200, 401}
        if any(content in downloads for content in filed.files):
            assert logins[filed.receipt].status_code == 200
    # Nothing half-copied: every file in the copy is one that was uploaded, whole.
    assert set(downloads) <= uploaded
    assert all(count == 1 for count in downloads.values())


def test_restore_under_another_secret_is_refused_in_plain_words(
    origin: tuple[Place, Any], fresh_database: Callable[..., str], tmp_path: Path
) -> None:
    """The same backup restored with a different PORTAL_SECRET_KEY: exit 2 and words that
    name the cause; `portal serve` on that database refuses to start."""
    here, app = origin
    with TestClient(app, base_url="https://testserver") as client:
        file_one(client, app.state.ids, files=1)
    made = run_portal("backup", str(tmp_path / "snap.backup"), env=here.env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr

    other = place(
        tmp_path, "elsewhere", empty_url(fresh_database, tmp_path, "elsewhere"), b"o" * 40
    )
    refused = run_portal("restore", str(tmp_path / "snap.backup"), env=other.env, cwd=tmp_path)
    serve = run_portal("serve", "--port", "1", env=other.env, cwd=tmp_path)

    assert refused.returncode == 2
    assert "made with another server secret" in refused.stderr
    assert "PORTAL_SECRET_KEY" in refused.stderr
    # docs/deploy.md passes the secret as a file: the words name that variable too.
    assert "PORTAL_SECRET_KEY_FILE" in refused.stderr
    assert serve.returncode == 2
    assert "made with another server secret" in serve.stderr


def test_restore_refuses_a_place_that_already_holds_a_database(
    origin: tuple[Place, Any], tmp_path: Path
) -> None:
    """Restoring over a live database is refused and leaves it as it was; a file that is no
    backup is refused too."""
    here, _app = origin
    made = run_portal("backup", str(tmp_path / "snap.backup"), env=here.env, cwd=tmp_path)
    (tmp_path / "junk.backup").write_bytes(b"not a backup")

    over = run_portal("restore", str(tmp_path / "snap.backup"), env=here.env, cwd=tmp_path)
    junk = run_portal("restore", str(tmp_path / "junk.backup"), env=here.env, cwd=tmp_path)

    assert made.returncode == 0, made.stderr
    assert over.returncode == 2
    assert "restore into an empty" in over.stderr
    assert junk.returncode == 2
    assert "not a portal backup" in junk.stderr
