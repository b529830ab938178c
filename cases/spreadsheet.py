"""CSV that a spreadsheet opens safely: the one place cells are escaped against formula injection.

A spreadsheet runs a text cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a
carriage return) as a formula: a value a reporter or anyone else typed could then run code or
send data out when an auditor opens the export. Every CSV the portal writes goes through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# A spreadsheet runs a cell starting with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str | int) -> str | int:
    """A text cell a spreadsheet would run as a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str | int]]) -> str:
    """A header and rows as CSV (CRLF lines), every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


__all__ = ["FORMULA_STARTS", "csv_text", "safe_cell"]
