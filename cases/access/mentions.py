"""Names written in a report's text: which of the people who could read the case it names.

Only those people are looked for: every account holding a role the policy covers, and every
directory person whose management chain reaches such an account (chains.py; naming anyone
else changes nobody's access). Their names' forms (names.py, mention_forms) make a scan
set, built once per process and kept while the database's people_version token is unchanged;
every filing reads the token (one statement) and scans its text in memory
(names.text_mentions). What is found is a candidate, never settled (Matcher.record_mentions).
docs/access.md, "Names written only in the report text".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cases.access.chains import CHAIN_ENTRIES
from cases.access.models import PeopleVersion
from cases.access.names import (
    EMAIL_PREFIX,
    ID_PREFIX,
    identifier_forms,
    is_han,
    mention_forms,
    simplified,
    split_aliases,
    text_mentions,
)
from cases.db import table_of
from cases.questionnaires.service import CONTENT_KEY
from cases.reports.models import Attachment, Case
from cases.reports.sealing import FILE_META, REPORT, open_json
from cases.staff.models import DirectoryEntry, StaffAccount, StaffRole
from cases.staff.roles import POLICY_ROLES

# Who a find means: ("directory", employee id) or ("staff", account id), as Matcher's Person.
Person = tuple[str, str]
# Scan sets kept per process, by people_version token (tests and tools may use several
# databases in one process; the newest few are enough).
KEPT = 4

_TOKEN = select(table_of(PeopleVersion).c.token).where(table_of(PeopleVersion).c.id == 1)
_ACCOUNTS = table_of(StaffAccount).c
_ENTRIES = table_of(DirectoryEntry).c
_ROLES = table_of(StaffRole).c
# Every account with a policy role (active or not: it can be reactivated), with the directory
# entry it is linked to as the policy links them (by e-mail, or by its employee id).
_POLICY_ACCOUNTS = (
    select(_ACCOUNTS.id, _ACCOUNTS.name, _ACCOUNTS.email, _ENTRIES.employee_id)
    .distinct()
    .join_from(table_of(StaffAccount), table_of(StaffRole), _ROLES.staff_id == _ACCOUNTS.id)
    .outerjoin(
        table_of(DirectoryEntry),
        (_ENTRIES.email == _ACCOUNTS.email)
        | (
            _ACCOUNTS.employee_id.is_not(None)
            & (_ACCOUNTS.employee_id != "")
            & (_ENTRIES.employee_id == _ACCOUNTS.employee_id)
        ),
    )
    .where(_ROLES.role.in_(sorted(POLICY_ROLES)))
)


_FILES = table_of(Attachment).c
# A reporter's complete files of a case (their sealed metadata); built once (docs/architecture.md,
# "Statements built once").
_REPORTER_FILES = select(_FILES.id, _FILES.meta).where(
    _FILES.case_id == bindparam("case_id"),
    _FILES.author == "reporter",
    _FILES.complete.is_(True),
    _FILES.meta.is_not(None),
)
_FILES_OF_IDS = _REPORTER_FILES.where(_FILES.id.in_(bindparam("ids", expanding=True))).order_by(
    _FILES.id
)
# Files a reporter added later are read once staff may see them (cases/reports/arrivals.py),
# as later messages are: before its hour a file changes nobody's access.
_LINKED_FILES = _REPORTER_FILES.where(
    _FILES.linked.is_(True), _FILES.held_until.is_(None)
).order_by(_FILES.id)


@dataclass(frozen=True)
class ScanSet:
    """The forms of the names of everyone who could read a case, and who each form is."""

    people: Mapping[str, frozenset[Person]]
    words: frozenset[str]
    first_han: re.Pattern[str] | None
    # The employee ids and the e-mails looked for, folded (names.identifier_forms, no prefix).
    ids: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()

    def find(self, text: str) -> dict[str, frozenset[Person]]:
        """Each name, id or e-mail found in the text, by what it was found as, with its
        people."""
        found = text_mentions(text, self.people, self.words, self.first_han, self.ids, self.emails)
        return {written: self.people[form] for written, form in found.items()}

    def forms_of(self, written: str) -> set[str]:
        """The forms a found text stands for (names.text_mentions' two ways of a Latin run;
        a Chinese name written in traditional characters; an id or e-mail)."""
        words = written.split()
        if len(words) == 1:
            keys = {written, simplified(written), ID_PREFIX + written, EMAIL_PREFIX + written}
        else:
            keys = {" ".join(sorted(words)), "".join(words)}
        return {key for key in keys if key in self.people}


_kept: dict[str, ScanSet] = {}
_lock = threading.Lock()


def scan_set(db: Session) -> ScanSet:
    """This database's scan set: one statement when the process already holds it."""
    token = db.execute(_TOKEN).scalar()
    kept = _kept.get(token) if token is not None else None
    if kept is not None:
        return kept
    built = _build(db)
    if token is not None:
        with _lock:
            while len(_kept) >= KEPT:
                _kept.pop(next(iter(_kept)))
            _kept[token] = built
    return built


def _build(db: Session) -> ScanSet:
    people: dict[str, set[Person]] = {}
    words: set[str] = set()
    looked_ids: set[str] = set()
    looked_emails: set[str] = set()

    def add(name: str, person: Person) -> None:
        found = mention_forms(name)
        for form in found.forms:
            people.setdefault(form, set()).add(person)
        words.update(found.words)

    def add_identifiers(employee_id: str, email: str, person: Person) -> None:
        for form in identifier_forms(employee_id, email):
            people.setdefault(form, set()).add(person)
            kind, _, ident = form.partition(":")
            (looked_emails if kind == EMAIL_PREFIX[:-1] else looked_ids).add(ident)

    accounts = db.execute(_POLICY_ACCOUNTS).all()
    for staff_id, name, email, linked in accounts:
        # As the matcher does: an account the directory knows is that directory person.
        person = ("directory", linked) if linked else ("staff", staff_id)
        add(name or "", person)
        add((email or "").partition("@")[0], person)
        add_identifiers(linked or "", email or "", person)
    ids = sorted({row.id for row in accounts})
    entries = db.execute(CHAIN_ENTRIES, {"ids": ids}).all() if ids else []
    for employee_id, name, aliases, email in entries:
        for written in (name, *split_aliases(aliases or "")):
            add(written, ("directory", employee_id))
        add_identifiers(employee_id, email or "", ("directory", employee_id))
    starts = sorted({form[0] for form in people if is_han(form[0])})
    first_han = re.compile("[" + "".join(map(re.escape, starts)) + "]") if starts else None
    return ScanSet(
        {form: frozenset(found) for form, found in people.items()},
        frozenset(words),
        first_han,
        frozenset(looked_ids),
        frozenset(looked_emails),
    )


def report_text(case: Case, case_key: bytes) -> str:
    """The text a reporter wrote in a report, opened from the case's sealed content: summary,
    details, loss estimate and the text of the answers to the channel's questions."""
    content = open_json(case_key, case.id, REPORT, case.id, case.content)
    written = [content.get(field, "") for field in ("summary", "details", "loss_estimate")]
    answers = (content.get(CONTENT_KEY) or {}).get("answers", {})
    return "\n".join([*written, *_strings(answers)])


def file_names(db: Session, case: Case, case_key: bytes, ids: Sequence[str] | None = None) -> str:
    """The names of a reporter's files of a case, one a line, opened from their sealed
    metadata: those of `ids` (at filing, before they are linked), else every linked one that
    staff may see. Staff see a file's name only when the reporter chose to keep it (else
    "evidence-1.pdf"), and then "张伟报销单.jpg" names 张伟 as the text would. No statement
    for no `ids`."""
    return "\n".join(name for _id, name in file_names_of(db, case, case_key, ids))


def file_names_of(
    db: Session, case: Case, case_key: bytes, ids: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """`file_names`, each with its file's id."""
    if ids is None:
        rows = db.execute(_LINKED_FILES, {"case_id": case.id}).all()
    elif ids:
        rows = db.execute(_FILES_OF_IDS, {"case_id": case.id, "ids": sorted(ids)}).all()
    else:
        return []
    named = []
    for attachment_id, meta in rows:
        opened = open_json(case_key, case.id, FILE_META, attachment_id, meta)
        named.append((str(attachment_id), str(opened.get("name", ""))))
    return named


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


__all__ = ["ScanSet", "file_names", "file_names_of", "report_text", "scan_set"]
