"""Clean refusals: wrong content types, broken JSON and multipart are 4xx, never a 500."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cases.db import unit_of_work
from cases.notify.smtp import InsecureLogin, SmtpSender
from cases.org.service import OrgService
from portal.bootstrap import prepare_database
from portal.settings import Settings


def _report(app_db: sessionmaker[Session]) -> dict[str, Any]:
    with unit_of_work(app_db) as db:
        channel = OrgService(db).general_channel()
        category = channel.categories[0]
        return {
            "channel": channel.id,
            "category": category.id,
            "summary": "Orders diverted",
            "details": "The Acme order went to a rival.",
            "subjects": [],
            "exclude": [],
            "identity": None,
        }


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_cross_site_simple_request_cannot_file_a_report(
    client: Any, app_db: sessionmaker[Session], content_type: str
) -> None:
    """POST /api/v1/reports with a body a web page may send without preflight is a 415."""
    body = json.dumps(_report(app_db))
    headers = {"Content-Type": content_type} if content_type else {}

    response = client.post("/api/v1/reports", content=body, headers=headers)

    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_cross_site_simple_request_cannot_open_a_reporter_session(client: Any) -> None:
    """POST /api/v1/reporter/session as text/plain is a 415, not a receipt check."""
    response = client.post(
        "/api/v1/reporter/session",
        content='{"receipt": "ABCD-EFGH"}',
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 415


@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/reporter/session"])
def test_lone_surrogate_in_json_is_a_bad_request(client: Any, path: str) -> None:
    """A JSON string holding a lone surrogate ("\\ud800") is a 400 bad_json, not a 500."""
    body = '{"receipt": "\\ud800", "summary": "\\udfff", "details": {"\\ud800": 1}}'

    response = client.post(path, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"] == "bad_json"


BROKEN_MULTIPART = [
    b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a"\r\n\x00\r\n',
    b"not a multipart body at all",
    b"--xyz\r\nA header without a colon\r\n\r\nv\r\n--xyz--\r\n",
    b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--xyzQ',
    b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\ncut off',
]


def _reporter_headers(client: Any, app_db: sessionmaker[Session]) -> dict[str, str]:
    receipt = client.post("/api/v1/reports", json=_report(app_db)).json()["receipt"]
    token = client.post("/api/v1/reporter/session", json={"receipt": receipt}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_broken_multipart_upload_is_a_bad_request(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """Every multipart framing error on an upload endpoint is a 400, never a 500."""
    headers = _reporter_headers(client, app_db)
    headers["Content-Type"] = "multipart/form-data; boundary=xyz"

    statuses = [
        client.post("/api/v1/reporter/attachments", content=body, headers=headers).status_code
        for body in BROKEN_MULTIPART
    ]

    assert statuses == [400] * len(BROKEN_MULTIPART)


@pytest.mark.sqlite_only
def test_other_local_users_cannot_read_the_data_directory(tmp_path: Path) -> None:
    """The data directory is 0700; secret.key and the SQLite files (db, -wal, -shm) are 0600."""
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    settings = Settings.from_environ({"PORTAL_DATA_DIR": str(data), "PORTAL_RUN_JOBS": "0"})

    engine = prepare_database(settings)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE touched (n INTEGER)")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    engine.dispose()

    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {"secret.key", "portal.db", "portal.db-wal"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes


@dataclass
class PlainAuthServer:
    """aiosmtpd that offers AUTH without TLS (as a misconfigured relay might) and records it."""

    url: str = ""
    logins: list[bytes] = field(default_factory=list)
    mails: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope.original_content)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult

        self.logins.append(bytes(data.password))
        return AuthResult(success=True)


@pytest.fixture
def plain_auth_smtp() -> Iterator[PlainAuthServer]:
    """A real SMTP server on 127.0.0.1 with AUTH over an unencrypted connection."""
    from aiosmtpd.controller import Controller
    from support.availability import free_port

    handler = PlainAuthServer()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        auth_require_tls=False,
        authenticator=handler.authenticate,
    )
    controller.start()
    handler.url = f"smtp://mailer:s3cret-password@127.0.0.1:{port}"
    yield handler
    controller.stop()


def _mail() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "News"
    message.set_content("There is news.")
    return message


def test_smtp_password_is_never_sent_without_starttls(plain_auth_smtp: PlainAuthServer) -> None:
    """smtp://user:pass@ to a server without STARTTLS sends neither password nor mail."""
    sender = SmtpSender(plain_auth_smtp.url)

    with pytest.raises(InsecureLogin):
        sender.send(_mail())

    assert plain_auth_smtp.logins == []
    assert plain_auth_smtp.mails == []


def test_smtp_plaintext_login_only_when_the_url_says_so(plain_auth_smtp: PlainAuthServer) -> None:
    """With ?insecure_login=yes in the URL the operator chose plaintext: login and send."""
    sender = SmtpSender(plain_auth_smtp.url + "?insecure_login=yes")

    sender.send(_mail())

    assert plain_auth_smtp.logins == [b"s3cret-password"]
    assert len(plain_auth_smtp.mails) == 1
