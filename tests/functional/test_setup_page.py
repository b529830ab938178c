"""The one-time setup link creates the first admin and shows the recovery key exactly once."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import crypto
from cases.clock import SystemClock
from cases.db import unit_of_work
from cases.org.models import RecoveryKey
from cases.staff.models import SetupToken, StaffAccount
from cases.staff.service import StaffService
from portal.bootstrap import setup_link_if_needed

PASSWORD = "blue kettle passphrase 2026"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _count(app_db: sessionmaker[Session], model: Any) -> int:
    with app_db() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_setup_link_creates_admin_and_recovery_key(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """The link's form makes an enrolled admin; the page offers the recovery key file once."""
    link = setup_link_if_needed(app.state.settings, app.state.engine)
    assert link is not None
    path = link.removeprefix(app.state.settings.base_url)
    form = client.get(path)

    done = client.post(
        path,
        data={
            "csrf": _csrf(form.text),
            "email": "Admin@Corp.example",
            "name": "First Admin",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )

    assert done.status_code == 200
    assert done.template.name == "setup/done.html"
    key_text = done.context["recovery"]["text"]
    pair = crypto.import_recovery_key(key_text)
    with app_db() as db:
        stored = db.scalars(select(RecoveryKey)).one()
        admin = db.scalars(select(StaffAccount)).one()
        assert stored.public_key == pair.public_bytes
        assert admin.email == "admin@corp.example"
        assert admin.totp_enrolled
        assert admin.role_names == {"admin"}
    assert client.get(path).status_code == 404
    assert setup_link_if_needed(app.state.settings, app.state.engine) is None


def test_weak_password_keeps_the_link_alive(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """A refused form shows field errors, creates nothing and the link still works."""
    link = setup_link_if_needed(app.state.settings, app.state.engine)
    assert link is not None
    path = link.removeprefix(app.state.settings.base_url)
    token = _csrf(client.get(path).text)

    refused = client.post(
        path,
        data={
            "csrf": token,
            "email": "admin@corp.example",
            "name": "A",
            "password": "short",
            "password_again": "short",
        },
    )

    assert refused.status_code == 422
    assert refused.context["errors"] == {"password": "too_short"}
    assert refused.context["values"]["email"] == "admin@corp.example"
    assert _count(app_db, StaffAccount) == 0
    assert _count(app_db, RecoveryKey) == 0
    assert client.get(path).status_code == 200


def test_forged_form_and_unknown_link_change_nothing(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """No CSRF token gets 403; a made-up link gets 404; no account appears."""
    link = setup_link_if_needed(app.state.settings, app.state.engine)
    assert link is not None
    path = link.removeprefix(app.state.settings.base_url)
    fields = {"email": "x@corp.example", "password": PASSWORD, "password_again": PASSWORD}

    forged = client.post(path, data=fields)
    unknown = client.get("/setup/not-a-real-token")

    assert forged.status_code == 403
    assert unknown.status_code == 404
    assert _count(app_db, StaffAccount) == 0


def _fill(client: Any, path: str, email: str, csrf: str) -> Any:
    body = {"email": email, "name": "A", "password": PASSWORD, "password_again": PASSWORD}
    return client.post(path, data={"csrf": csrf, **body})


def test_restarts_reuse_one_link_and_completion_kills_it(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """Two starts print the same link; after setup no stored link remains and none works."""
    first = setup_link_if_needed(app.state.settings, app.state.engine)
    second = setup_link_if_needed(app.state.settings, app.state.engine)
    assert first is not None
    path = first.removeprefix(app.state.settings.base_url)
    csrf = _csrf(client.get(path).text)

    done = _fill(client, path, "first@corp.example", csrf)

    assert second == first
    assert done.status_code == 200
    assert _count(app_db, SetupToken) == 0
    assert client.get(path).status_code == 404
    assert _fill(client, path, "second@corp.example", csrf).status_code == 404
    assert _count(app_db, StaffAccount) == 1


def test_old_link_refused_once_an_admin_exists(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """An admin made another way (portal user add) makes a printed setup link useless."""
    link = setup_link_if_needed(app.state.settings, app.state.engine)
    assert link is not None
    with unit_of_work(app_db) as db:
        StaffService(
            db, SystemClock(), server_secret=b"t" * 32, profile=crypto.PROFILES["test"]
        ).create("boss@corp.example", PASSWORD, ["admin"])

    answer = client.get(link.removeprefix(app.state.settings.base_url))

    assert answer.status_code == 404
    assert _count(app_db, StaffAccount) == 1
