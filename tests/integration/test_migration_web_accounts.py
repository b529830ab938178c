"""Migration 0005_web_accounts: accounts an admin made on the web must choose their own password."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text

from cases.db import make_engine
from portal.migrations import upgrade

ACCOUNT = (
    "INSERT INTO staff_accounts (id, email, name, active, password_hash, kdf_salt, kdf_profile,"
    " public_key, wrapped_private_key, totp_enrolled, totp_last_step, created_at,"
    " password_changed_at) VALUES (:id, :email, '', :yes, 'x', :b, 'owasp', :b, :b, :no, 0,"
    " :at, :at)"
)
AUDIT = (
    "INSERT INTO audit_entries (seq, at, actor_kind, actor_id, actor_roles, action, detail,"
    " prev_hash, hash) VALUES (1, :at, 'staff', 'boss', 'admin', 'admin.staff_created',"
    " :detail, '0', 'h1')"
)


def test_web_made_accounts_are_marked_to_choose_their_own_password(
    fresh_database: Callable[..., str],
) -> None:
    """The account the audit trail says an admin created is marked; a CLI-made one is not."""
    engine = make_engine(fresh_database(migrate=False))
    upgrade(engine, "0003")
    values = {"yes": True, "no": False, "b": b"k", "at": datetime(2026, 1, 1)}
    with engine.begin() as connection:
        connection.execute(text(ACCOUNT), {**values, "id": "web", "email": "w@example.com"})
        connection.execute(text(ACCOUNT), {**values, "id": "cli", "email": "c@example.com"})
        connection.execute(text(AUDIT), {**values, "detail": '{"target": "web", "roles": []}'})

    upgrade(engine, "0005_web_accounts")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, password_must_change FROM staff_accounts ORDER BY id")
        ).all()
    engine.dispose()

    assert [(row[0], bool(row[1])) for row in rows] == [("cli", False), ("web", True)]
