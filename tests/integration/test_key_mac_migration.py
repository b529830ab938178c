"""Migrations 0009 and 0010 sign the keys and approvals that exist before them, once, with
the server secret."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

import crypto
from cases.db import make_engine, session_factory, unit_of_work
from cases.keytrust import staff_key_trusted, staff_key_withheld, untrusted_rows
from cases.staff.models import KeyApproval, StaffAccount
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


def test_existing_approvals_are_signed_and_withheld_keys_sealed_as_such(
    fresh_database: Callable[..., str],
) -> None:
    """0010 signs approval rows; an account still withheld gets the withheld seal, so deleting
    its pending row afterwards releases nothing; an approved account stays trusted."""
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
        for letter in "ab":
            connection.execute(
                staff.insert().values(
                    id=letter * 32,
                    email=f"{letter}@example.com",
                    name=letter,
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
    migrations.upgrade(engine, "0009_key_macs", server_secret=SECRET)
    approvals = sa.table(
        "key_approvals",
        *(sa.column(c) for c in ("id", "staff_id", "reason", "requested_at", "status")),
        sa.column("decided_by"),
    )
    with engine.begin() as connection:
        for row_id, staff_id, status in (("p", "a", "pending"), ("q", "b", "approved")):
            connection.execute(
                approvals.insert().values(
                    id=row_id * 32,
                    staff_id=staff_id * 32,
                    reason="role_added",
                    requested_at=now,
                    status=status,
                    decided_by=None if status == "pending" else "c" * 32,
                )
            )

    migrations.upgrade(engine, server_secret=SECRET)

    with unit_of_work(session_factory(engine)) as db:
        assert untrusted_rows(db, SECRET) == []
        withheld = db.get(StaffAccount, "a" * 32)
        approved = db.get(StaffAccount, "b" * 32)
        assert withheld is not None
        assert approved is not None
        assert staff_key_withheld(SECRET, withheld)
        assert staff_key_trusted(SECRET, approved)
        db.execute(sa.delete(KeyApproval).where(KeyApproval.id == "p" * 32))
        assert [u.row_id for u in untrusted_rows(db, SECRET)] == ["a" * 32]
    engine.dispose()
