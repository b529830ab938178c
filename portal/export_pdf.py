"""A case file drawn as PDF and packed as ZIP, in memory: no plaintext ever reaches a disk.

The PDF is drawn with fpdf2 and a CJK TrueType font, embedded as a subset so Chinese and
English both render and can be searched and copied. The font is found at
``PORTAL_EXPORT_FONT`` (settings ``export_font``) or at the Debian paths below; without one
the export refuses with a message saying what to install. The ZIP carries the PDF, each
evidence file decrypted as it is written (stored, not compressed) and a SHA256SUMS list; it
is produced piece by piece while the response streams, so a large case never sits in memory
whole. What goes in the file is decided in cases/casework/export.py.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from gettext import GNUTranslations
from pathlib import Path
from typing import Any

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import TTFFont

from cases.casework.export import CaseFile
from cases.errors import N_
from cases.reports.attachments import FileTicket
from portal.choice_labels import ACTION_LABELS
from portal.i18n import translations
from portal.templating import file_size


@dataclass(frozen=True)
class Labels:
    """The case page's untranslated labels of stored codes (statuses, outcomes)."""

    status: Mapping[str, str]
    outcome: Mapping[str, str]


# What a mask on the reporter's words does, in the words of the case page (_masks.html).
MASK_STATES = {
    "hiding": N_("hides these words from colleagues"),
    "awaiting_agreement": N_("hides nothing until a second colleague agrees"),
    "lifted": N_("lifted"),
    "lapsed": N_("lapsed: its author left the case"),
}


def export_name(case_file: CaseFile, extension: str) -> str:
    """A download name with the reference and day only: nothing from the report."""
    day = case_file.exported_at.date().isoformat()
    return f"case-{case_file.view.case.reference}-{day}.{extension}"


@cache
def _font_template(path: Path, index: int) -> tuple[TTFFont, bytes]:
    """The font parsed once per process (seconds for a CJK font) and its file's bytes."""
    scratch = FPDF()
    scratch.add_font("cjk", fname=str(path), collection_font_number=index)
    parsed = scratch.fonts["cjk"]
    assert isinstance(parsed, TTFFont)
    return parsed, path.read_bytes()


def add_cjk_font(pdf: FPDF, font: tuple[Path, int]) -> None:
    """Add the CJK font as "cjk": widths and maps shared from the parsed template, and a
    fontTools object of its own, which fpdf2 subsets in place when the document is written."""
    path, index = font
    template, data = _font_template(path, index)
    fresh = deepcopy(template)
    fresh.ttfont = ttLib.TTFont(
        io.BytesIO(data), fontNumber=index, lazy=True, recalcTimestamp=False
    )
    pdf.fonts["cjk"] = fresh


class _Pdf(FPDF):
    def __init__(self, footer_text: Callable[[int], str]) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.cell(0, 6, self._footer_text(self.page_no()), align="C")


class _Drawing:
    """Draws one case file, top to bottom, in the reader's language."""

    def __init__(
        self, case_file: CaseFile, locale: str, font: tuple[Path, int], labels: Labels
    ) -> None:
        self.cf = case_file
        self.labels = labels
        self.locale = locale
        self.t: GNUTranslations = translations(locale)
        reference = case_file.view.case.reference
        label = self.t.gettext("Case file %(reference)s — page %(page)s")
        self.pdf = _Pdf(lambda n: label % {"reference": reference, "page": n})
        self.pdf.set_title(self.t.gettext("Case file %(reference)s") % {"reference": reference})
        self.pdf.set_creator("portal")
        # Fixed, so nothing about the server leaks; the export time is printed on page 1.
        self.pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
        add_cjk_font(self.pdf, font)
        self.pdf.set_auto_page_break(auto=True, margin=16)
        self.pdf.add_page()

    def _(self, message: str, **values: Any) -> str:
        text = self.t.gettext(message)
        return text % values if values else text

    def heading(self, text: str, size: int = 13) -> None:
        self.pdf.ln(2)
        self.pdf.set_font("cjk", size=size)
        self.pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.set_font("cjk", size=10)

    def para(self, text: str, size: int = 10) -> None:
        self.pdf.set_font("cjk", size=size)
        self.pdf.multi_cell(0, 5, text or "—", new_x="LMARGIN", new_y="NEXT", align="L")

    def pairs(self, rows: Iterable[tuple[str, str]]) -> None:
        for label, value in rows:
            self.para(f"{label}: {value or '—'}")

    def status(self, code: str | None) -> str:
        return self._(self.labels.status.get(code, code)) if code else "—"

    def outcome(self, code: str | None) -> str:
        return self._(self.labels.outcome.get(code, code)) if code else ""

    def when(self, moment: datetime | date | None) -> str:
        if moment is None:
            return ""
        if isinstance(moment, datetime):
            aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            return aware.astimezone(self.cf.zone).strftime("%Y-%m-%d %H:%M")
        return moment.isoformat()

    def draw(self) -> bytes:
        self.cover()
        self.report()
        self.identity()
        self.people()
        self.conversation()
        self.masks()
        self.history()
        self.evidence()
        self.audit()
        return bytes(self.pdf.output())

    def cover(self) -> None:
        case = self.cf.view.case
        self.heading(self._("Case file %(reference)s", reference=case.reference), size=16)
        self.para(
            self._(
                "Exported by %(person)s on %(time)s (%(zone)s). Masked and redacted text is "
                "left out; the reporter's identity appears only if it was disclosed to the "
                "person exporting.",
                person=self.cf.exported_by,
                time=self.when(self.cf.exported_at),
                zone=str(self.cf.zone),
            ),
            size=9,
        )
        view = self.cf.view
        self.pairs(
            [
                (self._("Channel"), view.channel.name(self.locale) if view.channel else ""),
                (self._("Category"), view.category.name(self.locale) if view.category else ""),
                (self._("Received on"), self.when(case.submitted_on)),
                (self._("Status"), self.status(case.status)),
                (self._("Outcome"), self.outcome(case.outcome)),
            ]
        )
        self.heading(self._("Deadlines"))
        self.pairs(
            [
                (self._("Acknowledge by"), self.when(case.acknowledge_by)),
                (self._("Acknowledged on"), self.when(case.acknowledged_on)),
                (self._("Feedback by"), self.when(case.feedback_by)),
                (self._("Due on"), self.when(case.due_on)),
                (self._("Concluded on"), self.when(case.concluded_on)),
            ]
        )

    def report(self) -> None:
        report = self.cf.view.report
        self.heading(self._("Report"))
        self.para(str(report.get("summary", "")), size=11)
        self.para(str(report.get("details", "")))
        if report.get("loss_estimate"):
            self.pairs([(self._("Estimated loss"), str(report["loss_estimate"]))])

    def identity(self) -> None:
        self.heading(self._("The reporter's identity"))
        found = self.cf.identity
        if found is None:
            self.para(self._("Not disclosed to the person exporting; not in this file."))
            return
        self.para(
            self._(
                "DISCLOSED to %(person)s on %(day)s, after an identity custodian approved "
                "the request. Handle with the greatest care.",
                person=self.cf.exported_by,
                day=self.when(found.disclosed_on),
            )
        )
        self.pairs([(self._("Name"), found.name), (self._("Contact"), found.contact)])

    def people(self) -> None:
        self.heading(self._("People named"))
        subjects = self.cf.view.subjects
        if not subjects:
            self.para(self._("None."))
        for s in subjects:
            extra = f" ({s['employee_id']})" if s.get("employee_id") else ""
            waiting = f" — {self._('needs confirming')}" if s.get("needs_confirmation") else ""
            self.para(f"- {s.get('name', '')}{extra}{waiting}")

    def conversation(self) -> None:
        view = self.cf.view
        self.heading(self._("Conversation with the reporter"))
        if not view.messages:
            self.para(self._("None."))
        for m in view.messages:
            who = (
                self._("Reporter")
                if m.author == "reporter"
                else (m.staff_name or self._("Case team"))
            )
            self.para(f"{who} · {self.when(m.at)}", size=8)
            self.para(m.body)
        self.heading(self._("Internal notes"))
        if not view.notes:
            self.para(self._("None."))
        for n in view.notes:
            self.para(f"{n.staff_name} · {self.when(n.at)}", size=8)
            self.para(n.body)

    def masks(self) -> None:
        """Every mask set on the reporter's words: who, when, why and what became of it, as
        every case reader sees them on the case page. The file shows the reporter's words
        masked; without this its reader could not tell that staff hid them, nor who."""
        records = self.cf.view.masks
        if not records:
            return
        self.heading(self._("Masks on the reporter's words"))
        for m in records:
            state = self._(MASK_STATES.get(m.state, "lapsed: its author left the case"))
            masked = self._(
                "Masked by %(name)s on %(at)s", name=m.masked_by, at=self.when(m.masked_at)
            )
            self.para(f"{masked} · {state}", size=8)
            self.para(f"{self._('Reason:')} {m.reason or self._('none given')}")
            if m.agreed_by:
                self.para(
                    self._(
                        "Agreed to by %(name)s on %(at)s",
                        name=m.agreed_by,
                        at=self.when(m.agreed_at),
                    ),
                    size=8,
                )
            if m.lifted_by:
                self.para(
                    self._(
                        "Lifted by %(name)s on %(at)s", name=m.lifted_by, at=self.when(m.lifted_at)
                    ),
                    size=8,
                )

    def history(self) -> None:
        self.heading(self._("Status history"))
        if not self.cf.view.history:
            self.para(self._("None."))
        for h in self.cf.view.history:
            start, end = self.status(h.from_status), self.status(h.to_status)
            outcome = f" ({self.outcome(h.outcome)})" if h.outcome else ""
            self.para(f"{self.when(h.at)} · {h.staff_name} · {start} → {end}{outcome}", size=8)
            if h.reason:
                self.para(h.reason)

    def evidence(self) -> None:
        self.heading(self._("Evidence"))
        files = self.cf.view.files
        if not files:
            self.para(self._("None."))
        for f in files:
            source = self._("from the reporter") if f.author == "reporter" else self._("from staff")
            cleaned = self._("metadata removed") if f.cleaned else self._("metadata not removed")
            self.para(
                f"{f.name} · {file_size(f.size)} ({f.size} B) · {source} · "
                f"{self.when(f.created_on)} · {cleaned}"
            )
            self.para(f"SHA-256 {f.sha256}", size=8)

    def audit(self) -> None:
        self.heading(self._("Audit excerpt"))
        for line in self.cf.audit:
            action = ACTION_LABELS.get(line.action)
            label = self._(action) if action else line.action
            self.para(f"#{line.seq} · {self.when(line.at)} · {line.actor} · {label}", size=8)


def render_pdf(case_file: CaseFile, locale: str, font: tuple[Path, int], labels: Labels) -> bytes:
    """The case file as PDF bytes, drawn in memory in the reader's language."""
    return _Drawing(case_file, locale, font, labels).draw()


class _Pipe:
    """A write-only file for zipfile: what is written is taken out by the streaming loop."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts = []
        return out


def zip_stream(
    pdf: bytes,
    pdf_name: str,
    tickets: list[FileTicket],
    chunks_of: Callable[[FileTicket], Iterator[bytes]],
) -> Iterator[bytes]:
    """The ZIP, piece by piece: the PDF, then each file as it is decrypted, then SHA256SUMS."""
    pipe = _Pipe()
    sums = []
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_entry(pdf_name, len(pdf)), pdf)
        yield pipe.take()
        for number, ticket in enumerate(tickets, start=1):
            name = f"evidence/{number:03d}-{_safe(ticket.info.name)}"
            with archive.open(_entry(name, ticket.info.size), "w") as out:
                for chunk in chunks_of(ticket):
                    out.write(chunk)
                    yield pipe.take()
            sums.append(f"{ticket.info.sha256}  {name}\n")
        listing = "".join(sums).encode()
        archive.writestr(_entry("SHA256SUMS", len(listing)), listing)
    yield pipe.take()


def _entry(name: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
    info.file_size = size
    info.compress_type = zipfile.ZIP_STORED
    return info


def _safe(name: str) -> str:
    """A file name inside the ZIP: no path parts, no control characters."""
    kept = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\:*?"<>|')
    return kept.strip(" .") or "file"
