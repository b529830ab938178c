"""The directory's management chains of portal accounts, as one recursive query.

The access policy (policy.py) and the text scan (mentions.py) read the same chains: who an
account is in the directory, and everyone below them at any depth.
"""

from __future__ import annotations

from sqlalchemy import bindparam, literal, select
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import CTE

from cases.staff.models import DirectoryEdge, DirectoryEntry, DirectoryLink


def chain_tree() -> CTE:
    """Every (account, directory employee id, own) pair of the people in `ids` and below.

    Read from the directory's history (migration 0025_directory_history), not from today's
    rows alone: every entry an account has been linked to is its own, and everyone who ever
    reported to one of those is below it, at any depth. A directory change only adds."""
    heads = (
        select(
            DirectoryLink.staff_id.label("staff_id"),
            DirectoryLink.employee_id.label("employee_id"),
            literal(True).label("own"),
        )
        .where(DirectoryLink.staff_id.in_(bindparam("ids", expanding=True)))
        .cte("chain", recursive=True)
    )
    below = select(heads.c.staff_id, DirectoryEdge.employee_id, literal(False)).join(
        heads, DirectoryEdge.manager_employee_id == heads.c.employee_id
    )
    return heads.union(below)


def _chain_entries_statement() -> Select[str, str, str, str | None]:
    tree = chain_tree()
    return (
        select(
            DirectoryEntry.employee_id,
            DirectoryEntry.name,
            DirectoryEntry.aliases,
            DirectoryEntry.email,
        )
        .where(DirectoryEntry.employee_id.in_(select(tree.c.employee_id)))
        .order_by(DirectoryEntry.employee_id)
    )


# The directory people in the chains of the accounts `ids` (their own entries and everyone
# below them), with their names and e-mails: who a report's text is scanned for (mentions.py).
CHAIN_ENTRIES = _chain_entries_statement()

__all__ = ["CHAIN_ENTRIES", "chain_tree"]
