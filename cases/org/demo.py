"""A demo organisation: a sales hierarchy in the directory and one account per role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from cases.clock import Clock
from cases.errors import Conflict
from cases.staff.directory import DirectoryService, Row
from cases.staff.models import StaffAccount
from cases.staff.service import StaffService

DEMO_PASSWORD = "demo-portal-passphrase"  # noqa: S105 - published on purpose: it is a demo

DIRECTORY = (
    Row("E1000", "王总 Wang Wei", "ceo@demo.example", "Management", ""),
    Row("E1100", "李娜 Li Na", "sales.director@demo.example", "Sales", "E1000"),
    Row("E1110", "张伟 Zhang Wei", "sales.manager@demo.example", "Sales", "E1100"),
    Row("E1111", "刘洋 Liu Yang", "liu.yang@demo.example", "Sales", "E1110"),
    Row("E1112", "陈静 Chen Jing", "chen.jing@demo.example", "Sales", "E1110"),
    Row("E1200", "赵敏 Zhao Min", "compliance.head@demo.example", "Compliance", "E1000"),
    Row("E1210", "Anna Schmidt", "investigator@demo.example", "Compliance", "E1200"),
    Row("E1211", "孙磊 Sun Lei", "investigator2@demo.example", "Compliance", "E1200"),
    Row("E1300", "周婷 Zhou Ting", "hr.head@demo.example", "HR", "E1000"),
)

ACCOUNTS = (
    ("admin@demo.example", "Demo Admin", ["admin"], None),
    ("investigator@demo.example", "Anna Schmidt", ["investigator"], "E1210"),
    ("investigator2@demo.example", "孙磊 Sun Lei", ["investigator"], "E1211"),
    ("sales.director@demo.example", "李娜 Li Na", ["investigator"], "E1100"),
    ("compliance.head@demo.example", "赵敏 Zhao Min", ["custodian", "reward_approver"], "E1200"),
    ("hr.head@demo.example", "周婷 Zhou Ting", ["retaliation_officer", "reward_approver"], "E1300"),
    ("finance@demo.example", "Finance Desk", ["finance"], None),
    ("auditor@demo.example", "Internal Audit", ["auditor"], None),
    ("analyst@demo.example", "Channel Statistics", ["analyst"], None),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    roles: list[str]
    totp_secret: str


def seed_demo_org(
    db: Session, clock: Clock, server_secret: bytes, profile: crypto.Argon2Profile
) -> list[DemoLogin]:
    """Refuses a database that already has staff: a demo never mixes with real data."""
    if db.scalar(select(func.count()).select_from(StaffAccount)):
        raise Conflict("The database already has staff accounts; demo needs an empty one.")
    DirectoryService(db, clock, server_secret).import_rows(DIRECTORY)
    staff = StaffService(db, clock, server_secret=server_secret, profile=profile)
    logins = []
    for email, name, roles, employee_id in ACCOUNTS:
        new = staff.create(email, DEMO_PASSWORD, roles, name=name, employee_id=employee_id)
        assert new.totp_secret is not None
        logins.append(DemoLogin(email, roles, crypto.totp_secret_b32(new.totp_secret)))
    return logins
