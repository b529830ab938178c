"""Migration 0009 signs the public keys that exist before it, once, with the server secret."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

import crypto
from cases.db import make_engine, session_factory, unit_of_work
from cases.keytrust import untrusted_rows
from portal import migrations

SECRET = b"m" * 32


def test_existing_staff_key_is_signed_by_the_upgrade(fresh_database: Callable[..., str]) -> None:
    """A staff row written before 0009 passes its MAC after an upgrade given the secret."""
    url = fresh_database(migrate=False)
    engine = make_engine(url)
    migrations.upgrade(engine, "0003")
    staff = sa.table(
        "staff_accounts",
        *(sa.column(c) for c in ("id", "email", "name", "active", "password_hash", "kdf_salt")),
        *(sa.column(c) for c in ("kdf_profile", "public_key", "wrapped_private_key")),
        *(sa.column(c) for c in ("totp_enrolled", "totp_last_step", "created_at")),
        sa.column("password_changed_at"),
    )
    now = datetime(2026, 3, 2, 9, 0)
    with engine.begin() as connection:
        connection.execute(
            staff.insert().values(
                id="a" * 32,
                email="old@example.com",
                name="Old",
                active=True,
                password_hash="x",
                kdf_salt=b"s" * 32,
                kdf_profile="test",
                public_key=crypto.KeyPair.generate().public_bytes,
                wrapped_private_key=b"w",
                totp_enrolled=False,
                totp_last_step=0,
                created_at=now,
                password_changed_at=now,
            )
        )

    migrations.upgrade(engine, server_secret=SECRET)

    with unit_of_work(session_factory(engine)) as db:
        assert untrusted_rows(db, SECRET) == []
        assert [u.row_id for u in untrusted_rows(db, b"other" * 8)] == ["a" * 32]
    engine.dispose()
