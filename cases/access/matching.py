"""The one matcher: which directory people a typed name, id or e-mail may mean.

Every place a person is named uses it: the report form and API, retaliation complaints,
an investigator adding a subject, and a directory change, which matches the people it
adds or changes against what was typed in reports already filed. Spelling cannot dodge
it (cases/access/names.py). Only an exact identifier settles a match; a name, alias or
pinyin match keeps every candidate excluded until an investigator confirms or rejects.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select
from sqlalchemy.orm import Session

import crypto
from cases.access.mentions import file_names, report_text, scan_set
from cases.access.models import CaseSubjectKey, DirectoryKey
from cases.access.names import (
    EMAIL_PREFIX,
    EXACT_KINDS,
    ID_PREFIX,
    account_keys,
    entry_keys,
    id_hash,
    staff_hash,
    typed_keys,
)
from cases.db import new_id, table_of
from cases.reports.models import Case, CaseItem, CaseSubject, HeldMention
from cases.reports.sealing import MESSAGE, SUBJECT, open_json, open_text, seal_json
from cases.staff.models import DirectoryEntry, StaffAccount

# Rows in these states settle who a typed person is: later namesakes are not candidates.
SETTLED = frozenset({"id+name", "confirmed"})
# Preference when one person matches several ways: the most exact label is kept.
KIND_ORDER = ("name", "alias", "pinyin", "within", "text")
# A name found within what was typed ("张伟经理" holds 张伟) counts only while nothing
# matches what was typed as a whole: "张伟强" is 张伟强 when the directory has them, and
# only otherwise perhaps 张伟.
WITHIN = "within"
# A name found in the report's text (summary, details, ...) at filing, not in what was typed
# about a person (cases/access/mentions.py): always a candidate.
TEXT = "text"
WHOLE = frozenset({"name", "alias", "pinyin", "employee_id", "email", "id+name", "confirmed"})


@dataclass(frozen=True)
class Candidate:
    employee_id: str  # "" for a portal account the directory does not know (staff_id)
    kind: str  # employee_id | email | id+name | name | alias | pinyin | within | text
    staff_id: str | None = None

    @property
    def exact(self) -> bool:
        return self.kind in EXACT_KINDS or self.kind == "id+name"


# Who a match found: ("directory", employee id) or ("staff", account id).
Person = tuple[str, str]


def index_entries(db: Session, entries: Iterable[DirectoryEntry]) -> None:
    """(Re)write the match keys of these directory entries."""
    entries = list(entries)
    ids = [entry.id for entry in entries]
    for start in range(0, len(ids), 500):
        db.execute(delete(DirectoryKey).where(DirectoryKey.entry_id.in_(ids[start : start + 500])))
    for entry in entries:
        keys = entry_keys(entry.employee_id, entry.email or "", entry.name, entry.aliases or "")
        db.add_all(DirectoryKey(entry_id=entry.id, key=k, kind=v) for k, v in keys.items())
    db.flush()


# Built once: every report filed matches and stores the people it names through these.
_KEYS = table_of(DirectoryKey).c
_ENTRIES = table_of(DirectoryEntry).c
_DIRECTORY_KEYS = (
    select(_KEYS.key, _KEYS.kind, _ENTRIES.employee_id)
    .join_from(table_of(DirectoryKey), table_of(DirectoryEntry), _ENTRIES.id == _KEYS.entry_id)
    .where(_KEYS.key.in_(bindparam("keys", expanding=True)))
)
# Every portal account with the directory entry it is linked to, if any (as the policy
# links them: by e-mail, or by the employee id the account carries).
_ACCOUNTS = table_of(StaffAccount).c
_ACCOUNT_PEOPLE = select(
    _ACCOUNTS.id, _ACCOUNTS.name, _ACCOUNTS.email, _ENTRIES.employee_id
).outerjoin_from(
    table_of(StaffAccount),
    table_of(DirectoryEntry),
    or_(
        _ENTRIES.email == _ACCOUNTS.email,
        and_(
            _ACCOUNTS.employee_id.is_not(None),
            _ACCOUNTS.employee_id != "",
            _ENTRIES.employee_id == _ACCOUNTS.employee_id,
        ),
    ),
)
_INSERT_SUBJECT = insert(table_of(CaseSubject))
_INSERT_SUBJECT_KEY = insert(table_of(CaseSubjectKey))


class Matcher:
    def __init__(self, db: Session, server_secret: bytes) -> None:
        self.db = db
        self.server_secret = server_secret
        # The people this matcher stored for a case: the text does not add them again.
        self._recorded: set[str] = set()

    def candidates(self, name: str, employee_id: str = "", email: str = "") -> list[Candidate]:
        """Everyone the typed values may mean, exact identifier matches first.

        When an exact id (or e-mail) and the name agree on a person, that settles it and
        namesakes are not candidates. Otherwise every person found either way is one. When
        nothing matches at all, everyone whose name is within what was typed is one
        ("销售总监张伟", "Mr Zhang Wei (Sales)": typed_keys' `within`).
        """
        typed = typed_keys(name, employee_id, email)
        wanted = typed.all()
        rows = self.db.execute(_DIRECTORY_KEYS, {"keys": sorted(wanted)})
        exact: dict[Person, str] = {}
        fuzzy: dict[Person, str] = {}
        within: set[Person] = set()

        def found(key: str, kind: str, person: Person) -> None:
            if key in typed.exact:
                exact[person] = typed.exact[key]
            elif key in typed.within:
                within.add(person)
            elif _rank(kind) < _rank(fuzzy.get(person, "")):
                fuzzy[person] = kind

        for key, kind, employee in rows:
            found(key, kind, ("directory", employee))
        # Portal accounts are people too, directory or not: an account the directory does
        # not know is excluded as itself, and one it knows by its directory entry (with the
        # managers above it) when named by the account's own name or e-mail.
        # The directory's own way of matching a person comes first: an account adds what it
        # alone matched (a person the directory did not find, or an exact e-mail).
        by_directory = set(exact) | set(fuzzy) | within
        for staff_id, account_name, account_email, linked in self.db.execute(_ACCOUNT_PEOPLE):
            person = ("directory", linked) if linked else ("staff", staff_id)
            for key, kind in account_keys(account_name or "", account_email or ""):
                if key in wanted and (person not in by_directory or key in typed.exact):
                    found(key, kind, person)
        if not exact and not fuzzy:
            fuzzy = dict.fromkeys(within, WITHIN)
        settled = [person for person in exact if person in fuzzy]
        if settled:
            return [_candidate(p, "id+name" if p in settled else exact[p]) for p in sorted(exact)]
        first = [_candidate(p, exact[p]) for p in sorted(exact)]
        return first + [_candidate(p, k) for p, k in sorted(fuzzy.items()) if p not in exact]

    def is_known_id(self, employee_id: str) -> bool:
        keys = typed_keys("", employee_id).exact
        stmt = select(DirectoryKey.entry_id).where(DirectoryKey.key.in_(sorted(keys)))
        return self.db.scalars(stmt).first() is not None

    def record(self, case: Case, case_key: bytes, name: str, employee_id: str, email: str) -> int:
        """Store one typed person: a row per candidate, sealed as typed, and the hashed keys
        that let a later directory change find it. Returns how many candidates need confirming.
        """
        typed = {"name": name.strip(), "employee_id": employee_id.strip(), "email": email.strip()}
        group = new_id()
        rows: dict[str | None, tuple[str, bool]] = {}
        for found in self.candidates(name, employee_id, email):
            rows[self._person_hash(found)] = (found.kind, not found.exact)
        self._recorded |= {h for h in rows if h is not None}
        # An id nobody in the directory has yet still excludes whoever gets it later.
        for key, kind in typed_keys(name, employee_id, email).exact.items():
            if kind == "employee_id":
                rows.setdefault(self._hash(key.removeprefix("#id:")), ("employee_id", False))
        if not rows:
            rows[None] = ("none", False)
        subjects = []
        for directory_hash, (kind, unsure) in rows.items():
            item_id = new_id()
            sealed = seal_json(case_key, case.id, SUBJECT, item_id, typed)
            subjects.append(
                {
                    "id": item_id,
                    "case_id": case.id,
                    "group_id": group,
                    "directory_hash": directory_hash,
                    "matched_by": kind,
                    "needs_confirmation": unsure,
                    "sealed": sealed,
                }
            )
        # One statement each for the rows and the keys: a report names people at filing.
        self.db.execute(_INSERT_SUBJECT, subjects)
        self._store_keys(case.id, group, name, employee_id, email)
        return sum(1 for _, unsure in rows.values() if unsure)

    def record_mentions(
        self, case: Case, case_key: bytes, attachment_ids: Sequence[str] = ()
    ) -> int:
        """Store each person of the scan set the report's text names as a candidate of kind
        "text" (cases/access/mentions.py; the text opened from the case's sealed content at
        filing, and the names of the files filed with it, `attachment_ids`): a row per
        person, sealed with the words found, and the keyed hashes of those words' forms, like
        a typed person's. Everyone it finds waits for confirmation; someone the typed fields
        already matched is not added again. Returns how many it added."""

        def written() -> str:
            names = file_names(self.db, case, case_key, attachment_ids)
            return "\n".join([report_text(case, case_key), names])

        subjects, keys = self._mention_rows(case, case_key, written)
        if subjects:
            self.db.execute(_INSERT_SUBJECT, subjects)
            self.db.execute(_INSERT_SUBJECT_KEY, keys)
        return len(subjects)

    def hold_mentions(
        self,
        case: Case,
        case_key: bytes,
        text: str,
        *,
        item_id: str | None = None,
        attachment_id: str | None = None,
    ) -> int:
        """The people of the scan set a reporter's later message (`item_id`) names, or the
        kept name of a file they added later (`attachment_id`), held with that message or
        file (a HeldMention row) until its hour comes: `release_mentions` then makes them
        candidates and takes the case from whoever they exclude, in the transaction that
        shows the message or file to staff. Before that hour nothing changes, so no one
        watching their access learns the minute the reporter wrote. Returns how many people
        it holds."""
        if (item_id is None) == (attachment_id is None):
            raise ValueError("a held mention belongs to one message or one file")
        self._recorded |= self._named(case.id)
        subjects, keys = self._mention_rows(case, case_key, lambda: text)
        if subjects:
            self.db.add(
                HeldMention(
                    case_id=case.id,
                    item_id=item_id,
                    attachment_id=attachment_id,
                    rows=json.dumps({"subjects": [_portable(s) for s in subjects], "keys": keys}),
                )
            )
        return len(subjects)

    def rescan(self, case: Case, case_key: bytes) -> int:
        """Before a case's key reaches someone after filing: read what the reporter wrote (the
        report and every message staff can see) against today's scan set, and store everyone
        it names whom the case does not name yet, nor had rejected, as a "text" candidate.
        So a person who joined the scan set after filing (a new investigator, the manager of
        a rep named in the text who got an account since) is found before they get the key;
        the caller asks the policy again afterwards. Returns how many it added."""
        self._recorded |= self._named(case.id, rejected=True)

        def written() -> str:
            messages = self.db.execute(
                select(CaseItem.id, CaseItem.body)
                .where(
                    CaseItem.case_id == case.id,
                    CaseItem.author == "reporter",
                    CaseItem.kind == "message",
                    # A held message's people are held with it (HeldMention).
                    CaseItem.seq > 0,
                )
                .order_by(CaseItem.seq)
            ).all()
            bodies = [open_text(case_key, case.id, MESSAGE, i, body) for i, body in messages]
            files = file_names(self.db, case, case_key)
            return "\n".join([report_text(case, case_key), *bodies, files])

        subjects, keys = self._mention_rows(case, case_key, written)
        if subjects:
            self.db.execute(_INSERT_SUBJECT, subjects)
            self.db.execute(_INSERT_SUBJECT_KEY, keys)
        return len(subjects)

    def _named(self, case_id: str, *, rejected: bool = False) -> set[str]:
        """The person hashes this case names now (and, with `rejected`, those it rejected)."""
        rows = self.db.execute(
            select(CaseSubject.directory_hash, CaseSubject.rejected_hash).where(
                CaseSubject.case_id == case_id
            )
        ).all()
        return {h for active, dropped in rows for h in (active, dropped if rejected else None) if h}

    def _mention_rows(
        self, case: Case, case_key: bytes, text: Callable[[], str]
    ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """The subject rows and key rows for everyone of the scan set `text` names whom this
        matcher has not recorded yet."""
        scans = scan_set(self.db)
        found = scans.find(text()) if scans.people else {}
        subjects: list[dict[str, object]] = []
        keys: list[dict[str, object]] = []
        for written, people in sorted(found.items()):
            hashes = {self._person_hash(_candidate(p, TEXT)) for p in people} - self._recorded
            if not hashes:
                continue
            self._recorded |= hashes
            group = new_id()
            forms = scans.forms_of(written)
            typed = _typed_as(written, forms)
            for directory_hash in sorted(hashes):
                item_id = new_id()
                subjects.append(
                    {
                        "id": item_id,
                        "case_id": case.id,
                        "group_id": group,
                        "directory_hash": directory_hash,
                        "matched_by": TEXT,
                        "needs_confirmation": True,
                        "sealed": seal_json(case_key, case.id, SUBJECT, item_id, typed),
                    }
                )
            keys += [
                {"case_id": case.id, "group_id": group, "key_hash": self._key_hash(f), "kind": TEXT}
                for f in sorted(forms)
            ]
        return subjects, keys

    def release_mentions(self, held: HeldMention) -> None:
        """Store a held message's candidates (those the case does not name already) and drop
        the hold."""
        rows = json.loads(held.rows)
        named = self._named(held.case_id)
        subjects = [_stored(s) for s in rows["subjects"] if s["directory_hash"] not in named]
        groups = {s["group_id"] for s in subjects}
        keys = [k for k in rows["keys"] if k["group_id"] in groups]
        if subjects:
            self.db.execute(_INSERT_SUBJECT, subjects)
        if keys:
            self.db.execute(_INSERT_SUBJECT_KEY, keys)
        self.db.delete(held)

    def copy_subjects(self, origin: Case, origin_key: bytes, case: Case, case_key: bytes) -> None:
        """Give a linked case (a retaliation complaint) the people its origin named, with
        their candidates, confirmations and rejections, and the keys to find them later."""
        groups: dict[str, str] = {}
        stmt = select(CaseSubject).where(CaseSubject.case_id == origin.id).order_by(CaseSubject.id)
        typed_by_group: dict[str, dict[str, str]] = {}
        for row in self.db.scalars(stmt):
            old_group = row.group_id or row.id
            group = groups.setdefault(old_group, new_id())
            if row.sealed:
                typed_by_group.setdefault(group, open_subject(origin, origin_key, row))
            item_id = new_id()
            typed = typed_by_group.get(group, {"name": "", "employee_id": "", "email": ""})
            self.db.add(
                CaseSubject(
                    id=item_id,
                    case_id=case.id,
                    group_id=group,
                    directory_hash=row.directory_hash,
                    matched_by=row.matched_by,
                    needs_confirmation=row.needs_confirmation,
                    rejected_hash=row.rejected_hash,
                    sealed=seal_json(case_key, case.id, SUBJECT, item_id, typed),
                )
            )
        for key_row in self.db.scalars(
            select(CaseSubjectKey).where(CaseSubjectKey.case_id == origin.id)
        ):
            self.db.add(
                CaseSubjectKey(
                    case_id=case.id,
                    group_id=groups.get(key_row.group_id, key_row.group_id),
                    key_hash=key_row.key_hash,
                    kind=key_row.kind,
                )
            )
        self.db.flush()

    def rematch(self, entries: Iterable[DirectoryEntry]) -> set[str]:
        """New or changed directory people against everyone typed in reports already filed:
        each new candidate is added (to be confirmed unless the identifier matched exactly).
        Returns the ids of the cases that gained a candidate."""
        touched: set[str] = set()
        for entry in entries:
            touched |= self._rematch_one(entry)
        self.db.flush()
        return touched

    def rematch_account(self, account: StaffAccount) -> set[str]:
        """A new portal account against everyone typed in reports already filed, as a
        directory import does for its people: a report that named the account's e-mail or
        name before it existed keeps it away. Returns the ids of the cases that gained one."""
        keys = dict(account_keys(account.name or "", account.email))
        linked = self.db.execute(
            _ACCOUNT_PEOPLE.where(_ACCOUNTS.id == account.id, _ENTRIES.employee_id.is_not(None))
        ).first()
        person = (
            self._hash(linked.employee_id) if linked else staff_hash(self.server_secret, account.id)
        )
        touched = self._rematch(keys, person)
        self.db.flush()
        return touched

    def _rematch_one(self, entry: DirectoryEntry) -> set[str]:
        keys = entry_keys(entry.employee_id, entry.email or "", entry.name, entry.aliases or "")
        return self._rematch(keys, self._hash(entry.employee_id))

    def _rematch(self, keys: dict[str, str], person: str) -> set[str]:
        kinds = {self._key_hash(key): kind for key, kind in keys.items()}
        hits: dict[tuple[str, str], list[str]] = {}
        for row in self.db.scalars(
            select(CaseSubjectKey).where(CaseSubjectKey.key_hash.in_(sorted(kinds)))
        ):
            kind = row.kind if row.kind in (WITHIN, TEXT) else kinds[row.key_hash]
            hits.setdefault((row.case_id, row.group_id), []).append(kind)
        touched: set[str] = set()
        for (case_id, group), found in hits.items():
            exact = sorted(k for k in found if k in EXACT_KINDS)
            if self._already_candidate(case_id, group, person):
                continue
            if not exact and self._group_matched(case_id, group, SETTLED):
                continue
            if set(found) == {WITHIN} and self._group_matched(case_id, group, WHOLE):
                continue
            kind = exact[0] if exact else min(found, key=_rank)
            self.db.add(
                CaseSubject(
                    case_id=case_id,
                    group_id=group,
                    directory_hash=person,
                    matched_by=kind,
                    needs_confirmation=not exact,
                    sealed=b"",
                )
            )
            touched.add(case_id)
        return touched

    def _already_candidate(self, case_id: str, group: str, person: str) -> bool:
        stmt = select(CaseSubject.id).where(
            CaseSubject.case_id == case_id,
            CaseSubject.group_id == group,
            or_(CaseSubject.directory_hash == person, CaseSubject.rejected_hash == person),
        )
        return self.db.scalars(stmt).first() is not None

    def _group_matched(self, case_id: str, group: str, kinds: frozenset[str]) -> bool:
        """Whether a row of this typed person was matched in one of these ways: SETTLED (it is
        decided who was meant) or WHOLE (someone matches what was typed as a whole)."""
        stmt = select(CaseSubject.id).where(
            CaseSubject.case_id == case_id,
            CaseSubject.group_id == group,
            CaseSubject.matched_by.in_(sorted(kinds)),
        )
        return self.db.scalars(stmt).first() is not None

    def _store_keys(
        self, case_id: str, group: str, name: str, employee_id: str, email: str
    ) -> None:
        typed = typed_keys(name, employee_id, email)
        keys = {self._key_hash(k): kind for k, kind in typed.exact.items()}
        for key in typed.names:
            keys.setdefault(self._key_hash(key), "name")
        for key in typed.within:
            keys.setdefault(self._key_hash(key), WITHIN)
        if keys:
            rows = [
                {"case_id": case_id, "group_id": group, "key_hash": h, "kind": kind}
                for h, kind in keys.items()
            ]
            self.db.execute(_INSERT_SUBJECT_KEY, rows)

    def _hash(self, employee_id: str) -> str:
        return id_hash(self.server_secret, employee_id)

    def _person_hash(self, found: Candidate) -> str:
        if found.staff_id is not None:
            return staff_hash(self.server_secret, found.staff_id)
        return self._hash(found.employee_id)

    def _key_hash(self, key: str) -> str:
        return crypto.keyed_hash(self.server_secret, "subject-match-key", key)


def open_subject(case: Case, case_key: bytes, row: CaseSubject) -> dict[str, str]:
    """What was typed about a subject, from a row of a case whose key the caller holds."""
    value = open_json(case_key, case.id, SUBJECT, row.id, row.sealed)
    return {k: str(v) for k, v in value.items()}


def _typed_as(written: str, forms: set[str]) -> dict[str, str]:
    """A text find sealed as a typed person: an id or e-mail found as such in its own field,
    a name as the name (what an investigator sees when asked to confirm it)."""
    typed = {"name": written, "employee_id": "", "email": ""}
    if forms and all(f.startswith(EMAIL_PREFIX) for f in forms):
        typed.update(name="", email=written)
    elif forms and all(f.startswith((ID_PREFIX, EMAIL_PREFIX)) for f in forms):
        typed.update(name="", employee_id=written)
    return typed


def _portable(row: dict[str, object]) -> dict[str, object]:
    """A subject row as JSON can hold it (its sealed bytes in base64)."""
    sealed = row["sealed"]
    assert isinstance(sealed, bytes)
    return {**row, "sealed": base64.b64encode(sealed).decode()}


def _stored(row: dict[str, Any]) -> dict[str, object]:
    return {**row, "sealed": base64.b64decode(row["sealed"])}


def _candidate(person: Person, kind: str) -> Candidate:
    where, ident = person
    return Candidate(ident, kind) if where == "directory" else Candidate("", kind, ident)


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


__all__ = ["Candidate", "Matcher", "index_entries", "open_subject"]
