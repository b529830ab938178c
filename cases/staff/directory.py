"""Importing the staff directory from CSV and checking its management chain.

A file with a wrong header, an empty or duplicate employee id, or a cycle in the chain is
refused whole: nothing changes. Managers that are not in the file are reported and kept
as dangling links, since directories are often exported department by department.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from cases.access.matching import Matcher, index_entries
from cases.access.names import id_hash, identifier
from cases.clock import Clock
from cases.errors import Invalid, Message
from cases.staff.models import DirectoryEntry

COLUMNS = ("employee_id", "name", "email", "department", "manager_id")
OPTIONAL_COLUMNS = ("aliases",)
MAX_ROWS = 200_000
HASH_PURPOSE = "directory-employee-id"
_MEMO: dict[tuple[bytes, str], str] = {}


@dataclass(frozen=True)
class Row:
    employee_id: str
    name: str
    email: str
    department: str
    manager_id: str
    aliases: str = ""  # "|"-separated other names, matched like the name


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing_managers: list[tuple[str, str]] = field(default_factory=list)
    # Cases where a new or changed person became a candidate subject (to be enforced).
    rematched_cases: set[str] = field(default_factory=set)


def directory_hash(server_secret: bytes, employee_id: str) -> str:
    """The keyed hash a case subject stores for a directory match (the matcher's folded id:
    "E3" and "e3" agree); the directory stores none.

    Without the server secret a copy of the database cannot join a case's subjects to the
    directory: the application hashes the people it needs (a viewer's chain) per request.
    """
    return id_hash(server_secret, employee_id)


def directory_hashes(server_secret: bytes, employee_ids: Iterable[str]) -> list[str]:
    """directory_hash of each id, in order; remembered in this process, as it never changes.

    A manager's chain can hold thousands of people and is hashed for every page of the case
    list. The memo is a cache of a pure function (the secret is part of its key), not state.
    """
    ids = [identifier(employee_id) for employee_id in employee_ids]
    known = {employee_id: _MEMO.get((server_secret, employee_id)) for employee_id in ids}
    missing = [employee_id for employee_id, hashed in known.items() if hashed is None]
    if missing:
        hashed = crypto.keyed_hashes(server_secret, HASH_PURPOSE, missing)
        fresh = dict(zip(missing, hashed, strict=True))
        if len(_MEMO) + len(fresh) > MAX_ROWS:
            _MEMO.clear()
        _MEMO.update({(server_secret, employee_id): h for employee_id, h in fresh.items()})
        known.update(fresh)
    return [known[employee_id] or "" for employee_id in ids]


def entries_by_hash(
    db: Session, server_secret: bytes, hashes: set[str]
) -> dict[str, DirectoryEntry]:
    """The directory entries behind these subject hashes (for the case team's subject list)."""
    if not hashes:
        return {}
    ids = list(db.scalars(select(DirectoryEntry.employee_id)))
    hashed = zip(ids, directory_hashes(server_secret, ids), strict=True)
    wanted = [employee_id for employee_id, h in hashed if h in hashes]
    if not wanted:
        return {}
    entries = db.scalars(select(DirectoryEntry).where(DirectoryEntry.employee_id.in_(wanted)))
    return {directory_hash(server_secret, entry.employee_id): entry for entry in entries}


def parse_csv(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    optional = [h for h in header if h in OPTIONAL_COLUMNS]
    if [h for h in header if h not in OPTIONAL_COLUMNS] != list(COLUMNS) or len(
        set(optional)
    ) != len(optional):
        raise Invalid(
            Message(
                "The header row must be: %(columns)s (and optionally aliases)",
                columns=",".join(COLUMNS),
            ),
            code="bad_header",
        )
    rows: list[Row] = []
    for number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise Invalid(
                Message(
                    "Line %(line)d: expected %(count)d columns", line=number, count=len(header)
                ),
                code="bad_row",
            )
        row = Row(**{name: cell.strip() for name, cell in zip(header, record, strict=True)})
        if not row.employee_id or not row.name:
            raise Invalid(
                Message("Line %(line)d: employee_id and name are required", line=number),
                code="bad_row",
            )
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise Invalid("The file has too many rows", code="too_many_rows")
    return rows


def duplicate_ids(ids: Iterable[str]) -> list[str]:
    """Employee ids that occur more than once, sorted; one pass (200,000 rows in well under
    a second; the earlier list.count per id was quadratic)."""
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def find_cycle(managers: dict[str, str]) -> list[str] | None:
    """The first management cycle, as a list of employee ids, or None."""
    state: dict[str, int] = {}
    for start in managers:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in managers and state.get(node) != 2:
            if state.get(node) == 1:
                return [*path[path.index(node) :], node]
            state[node] = 1
            path.append(node)
            node = managers[node] or None
        for visited in path:
            state[visited] = 2
    return None


class DirectoryService:
    def __init__(self, db: Session, clock: Clock, server_secret: bytes) -> None:
        self.db = db
        self.clock = clock
        self.server_secret = server_secret

    def import_rows(self, rows: Iterable[Row]) -> ImportReport:
        rows = list(rows)
        # "E3" and "e3" are one person to the matcher, so they may not be two rows.
        duplicates = duplicate_ids(identifier(r.employee_id) for r in rows)
        if duplicates:
            raise Invalid(
                Message("Duplicate employee_id: %(ids)s", ids=", ".join(duplicates[:5])),
                code="duplicate",
            )
        managers = {r.employee_id: r.manager_id for r in rows}
        cycle = find_cycle(managers)
        if cycle:
            raise Invalid(
                Message("Management cycle: %(chain)s", chain=" -> ".join(cycle)), code="cycle"
            )
        report = ImportReport()
        existing = {e.employee_id: e for e in self.db.scalars(select(DirectoryEntry))}
        changed: list[DirectoryEntry] = []
        for row in rows:
            entry = self._upsert(row, existing.get(row.employee_id), report)
            if entry is not None:
                changed.append(entry)
            if row.manager_id and row.manager_id not in managers and row.manager_id not in existing:
                report.missing_managers.append((row.employee_id, row.manager_id))
        self.db.flush()
        # New names and ids may be people already named in reports: they become subjects.
        index_entries(self.db, changed)
        report.rematched_cases = Matcher(self.db, self.server_secret).rematch(changed)
        return report

    def _upsert(
        self, row: Row, entry: DirectoryEntry | None, report: ImportReport
    ) -> DirectoryEntry | None:
        """The entry when it was created or changed; None when it stayed as it was."""
        values = {
            "name": row.name,
            "email": row.email.lower() or None,
            "department": row.department,
            "manager_employee_id": row.manager_id or None,
            "aliases": row.aliases,
        }
        if entry is None:
            entry = DirectoryEntry(
                employee_id=row.employee_id,
                updated_at=self.clock.now(),
                **values,
            )
            self.db.add(entry)
            report.created += 1
            return entry
        if all(getattr(entry, key) == value for key, value in values.items()):
            report.unchanged += 1
            return None
        for key, value in values.items():
            setattr(entry, key, value)
        entry.updated_at = self.clock.now()
        report.updated += 1
        return entry
