"""The directory's management chains of portal accounts, as one recursive query.

The access policy (policy.py) and the text scan (mentions.py) read the same chains: who an
account is in the directory, and everyone below them at any depth.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, literal, or_, select
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import CTE

from cases.staff.models import DirectoryEntry, StaffAccount


def chain_tree() -> CTE:
    """Every (account, directory employee id, own) pair of the people in `ids` and below."""
    has_id = and_(StaffAccount.employee_id.is_not(None), StaffAccount.employee_id != "")
    heads = (
        select(
            StaffAccount.id.label("staff_id"),
            DirectoryEntry.employee_id.label("employee_id"),
            literal(True).label("own"),
        )
        .join(
            DirectoryEntry,
            or_(
                DirectoryEntry.email == StaffAccount.email,
                and_(has_id, DirectoryEntry.employee_id == StaffAccount.employee_id),
            ),
        )
        .where(StaffAccount.id.in_(bindparam("ids", expanding=True)))
        .cte("chain", recursive=True)
    )
    below = select(heads.c.staff_id, DirectoryEntry.employee_id, literal(False)).join(
        heads, DirectoryEntry.manager_employee_id == heads.c.employee_id
    )
    return heads.union(below)


def _chain_entries_statement() -> Select[str, str, str]:
    tree = chain_tree()
    return (
        select(DirectoryEntry.employee_id, DirectoryEntry.name, DirectoryEntry.aliases)
        .where(DirectoryEntry.employee_id.in_(select(tree.c.employee_id)))
        .order_by(DirectoryEntry.employee_id)
    )


# The directory people in the chains of the accounts `ids` (their own entries and everyone
# below them), with their names: who a report's text is scanned for (mentions.py).
CHAIN_ENTRIES = _chain_entries_statement()

__all__ = ["CHAIN_ENTRIES", "chain_tree"]
