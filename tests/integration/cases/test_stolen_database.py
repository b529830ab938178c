"""A copy of the database taken without the server secret does not say who a report accuses.

The copy is read the way a thief would: every column of every table, found by reflection
(so columns added later are covered), with no key and no code of the portal. Nothing in a
row that belongs to a case may equal or contain anything that identifies a directory
person (employee id, name, e-mail, row id, any unkeyed hash or base64 of them), nor the
staff account of a person the report names, nor equal any value of a directory row (the
old `id_hash` made that join).
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import Engine
from support.db import TEST_SECRET
from support.staff_world import PROFILE, SECRET, ZONE, World, build_world, key_ring

from cases.access.policy import may_see
from cases.access.service import AccessService
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.intake import IntakeConfig, SubjectInput
from cases.reports.keys import CASE
from cases.staff.directory import DirectoryService, Row

# Distinctive values, so a match is never a coincidence with random hex or ciphertext.
DIRECTORY = (
    Row("EMP-7301-CHAIR", "Zhou Chairwoman", "zhou.chair@corp.example", "Board Office", ""),
    Row(
        "EMP-7302-SALES",
        "Zhang Salesdirector",
        "zhang.sales@corp.example",
        "Sales",
        "EMP-7301-CHAIR",
    ),
    Row("EMP-7303-ACCTM", "Li Keyaccount", "li.keyaccount@corp.example", "Sales", "EMP-7302-SALES"),
    Row("EMP-7304-AUDIT", "Chen Auditpeer", "chen.audit@corp.example", "Audit", ""),
    Row("EMP-7305-BYNAME", "Wu Onlybyname", "wu.onlyname@corp.example", "Sales", "EMP-7302-SALES"),
    Row("EMP-7306-COMPL", "Sun Compliance", "sun.compliance@corp.example", "Compliance", ""),
)
# Named by the reporters, and (Chen, an investigator holding the key) by staff afterwards.
ACCUSED = ("EMP-7302-SALES", "EMP-7303-ACCTM", "EMP-7305-BYNAME", "EMP-7304-AUDIT")
HASHES: tuple[Callable[[bytes], Any], ...] = (
    hashlib.md5,
    hashlib.sha1,
    hashlib.sha224,
    hashlib.sha256,
    hashlib.sha384,
    hashlib.sha512,
    hashlib.blake2b,
    hashlib.blake2s,
    hashlib.sha3_256,
)


def _file_reports(url: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Reports naming directory people: whom each case accuses, and staff account ids by e-mail."""
    clock = FixedClock()
    with unit_of_work(session_factory(make_engine(url), TEST_SECRET)) as db:
        world = build_world(db, clock)
        DirectoryService(db, clock, SECRET).import_rows(DIRECTORY)
        for row in DIRECTORY[:2] + DIRECTORY[3:4] + DIRECTORY[5:]:
            world.staff(row.email, "investigator", employee_id=row.employee_id)
        accused = _reports(world) | _staff_names_a_key_holder(world)
        return accused, {email: person.account.id for email, person in world.people.items()}


def _reports(world: World) -> dict[str, list[str]]:
    by_id = world.file(subjects=[SubjectInput(name="Zhang", employee_id="EMP-7302-SALES")])
    by_email = world.file(subjects=[SubjectInput(name="Li", email="li.keyaccount@corp.example")])
    by_name = world.file(subjects=[SubjectInput(name="Wu Onlybyname")])
    director = world.people["zhang.sales@corp.example"].account
    assert may_see(world.db, director, by_id.case).reason == "subject"
    return {
        by_id.case.id: ["EMP-7302-SALES"],
        by_email.case.id: ["EMP-7303-ACCTM"],
        by_name.case.id: ["EMP-7305-BYNAME"],
    }


def _staff_names_a_key_holder(world: World) -> dict[str, list[str]]:
    """The compliance officer adds Chen as a subject: Chen loses the key he held."""
    filed = world.file(subjects=[])
    sun = world.people["sun.compliance@corp.example"].principal(world.db, world.clock)
    case_key = key_ring(world.db).open_for_staff(filed.case.id, CASE, sun)
    assert case_key is not None
    config = IntakeConfig(zone=ZONE, profile=PROFILE, server_secret=SECRET)
    service = AccessService(world.db, world.clock, AuditLog(world.db, world.clock, SECRET))

    revoked = service.add_subject(
        sun, filed.case, case_key, SubjectInput(name="Chen", employee_id="EMP-7304-AUDIT"), config
    )

    assert [r.reason for r in revoked] == ["subject"]
    return {filed.case.id: ["EMP-7304-AUDIT"]}


def _copy(url: str, tmp_path: Path) -> Engine:
    """The thief's copy: a file copy on SQLite, a plain connection (no portal code) otherwise."""
    if not url.startswith("sqlite"):
        return create_engine(url)
    source = url.removeprefix("sqlite:///")
    target = tmp_path / "stolen.db"
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return create_engine(f"sqlite:///{target}")


def _tables(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        return {
            name: [dict(row._mapping) for row in conn.execute(select(table))]
            for name, table in metadata.tables.items()
        }


def _variants(text: str) -> set[str]:
    forms = {text, text.lower(), text.upper(), text.strip(), "".join(text.split())}
    out = set(forms)
    for form in forms:
        raw = form.encode()
        out.add(base64.b64encode(raw).decode())
        for hash_function in HASHES:
            digest = hash_function(raw)
            out |= {digest.hexdigest(), digest.hexdigest().upper()}
    return out


def _identifying(tables: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Every directory person's id, name, e-mail and row id, and what a thief computes from them."""
    needles: set[str] = set()
    for entry in tables["directory_entries"]:
        for value in (entry["employee_id"], entry["name"], entry["email"], entry["id"]):
            needles |= _variants(str(value))
    return needles


def _accounts(
    tables: dict[str, list[dict[str, Any]]], accused: list[str], staff_ids: dict[str, str]
) -> set[str]:
    """The staff account ids of these people (a case's rows hold its team's, never theirs)."""
    emails = {e["email"] for e in tables["directory_entries"] if e["employee_id"] in accused}
    return {staff_ids[email] for email in emails if email in staff_ids}


def _case_cells(tables: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, str, str, Any]]:
    """Every cell of every row that belongs to a case (the cases table, or a case_id column)."""
    for name, rows in tables.items():
        for row in rows:
            case_id = row["id"] if name == "cases" else row.get("case_id")
            if case_id is not None:
                for column, value in row.items():
                    yield case_id, name, column, value


def _contains(cell: Any, needle: str) -> bool:
    if isinstance(cell, str):
        return needle in cell
    if isinstance(cell, bytes | bytearray | memoryview):
        data = bytes(cell)
        return needle.encode() in data or (
            len(needle) >= 32
            and all(c in "0123456789abcdef" for c in needle)
            and bytes.fromhex(needle) in data
        )
    return False


def test_no_cell_of_a_case_links_it_to_the_people_it_names(
    fresh_database: Callable[..., str], tmp_path: Path
) -> None:
    """Without the secret, no value in a case's rows identifies or joins to an accused person."""
    url = fresh_database()
    accused, staff_ids = _file_reports(url)

    tables = _tables(_copy(url, tmp_path))

    everyone = _identifying(tables)
    accounts = {case: _accounts(tables, people, staff_ids) for case, people in accused.items()}
    directory_values = {
        value
        for entry in tables["directory_entries"]
        for value in entry.values()
        if isinstance(value, str) and len(value) >= 8
    }
    assert len(tables["case_subjects"]) >= 4
    leaks = [
        (table, column, cell)
        for case, table, column, cell in _case_cells(tables)
        if cell in directory_values
        or any(_contains(cell, needle) for needle in everyone | accounts.get(case, set()))
    ]
    assert leaks == []


def test_the_portal_with_the_secret_still_hides_the_case_from_the_accused(
    fresh_database: Callable[..., str],
) -> None:
    """The same database, read by the portal with its secret, keeps the subject's boss out."""
    url = fresh_database()
    clock = FixedClock()

    with unit_of_work(session_factory(make_engine(url), TEST_SECRET)) as db:
        world = build_world(db, clock)
        DirectoryService(db, clock, SECRET).import_rows(DIRECTORY)
        chair = world.staff("zhou.chair@corp.example", employee_id="EMP-7301-CHAIR")
        peer = world.staff("chen.audit@corp.example", employee_id="EMP-7304-AUDIT")
        filed = world.file(subjects=[SubjectInput(name="Li", employee_id="EMP-7303-ACCTM")])

        assert may_see(db, chair.account, filed.case).reason == "manager"
        assert may_see(db, peer.account, filed.case).reason == "ok"
