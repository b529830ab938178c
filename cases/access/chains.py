"""The directory's management chains of portal accounts, as one recursive query.

The access policy (policy.py) and the text scan (mentions.py) read the same chains: who an
account is in the directory, and everyone below them at any depth.
"""

from __future__ import annotations

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import CTE, Subquery

from cases.staff.models import (
    DirectoryClaim,
    DirectoryEdge,
    DirectoryEntry,
    DirectoryLink,
)

LINK = "link"
EDGE = "edge"


def all_links() -> Subquery:
    """(staff_id, employee_id): the history's links and every claimed one."""
    return union_all(
        select(DirectoryLink.staff_id, DirectoryLink.employee_id),
        select(DirectoryClaim.staff_id, DirectoryClaim.employee_id).where(
            DirectoryClaim.kind == LINK
        ),
    ).subquery("links")


def all_edges(name: str = "edges") -> Subquery:
    """(employee_id, manager_employee_id): the history's edges and every claimed one."""
    return union_all(
        select(DirectoryEdge.employee_id, DirectoryEdge.manager_employee_id),
        select(DirectoryClaim.employee_id, DirectoryClaim.manager_employee_id).where(
            DirectoryClaim.kind == EDGE
        ),
    ).subquery(name)


def entries_below() -> CTE:
    """Every employee id below the ids in `tops`, at any depth, as the policy reads the chain
    (history and claims); the tops themselves are not included."""
    edges = all_edges("top_edges")
    first = (
        select(edges.c.employee_id.label("employee_id"))
        .where(edges.c.manager_employee_id.in_(bindparam("tops", expanding=True)))
        .cte("below", recursive=True)
    )
    deeper = all_edges()
    step = select(deeper.c.employee_id).join(
        first, deeper.c.manager_employee_id == first.c.employee_id
    )
    return first.union(step)


def chain_tree() -> CTE:
    """Every (account, directory employee id, own) pair of the people in `ids` and below.

    Read from the directory's history (migration 0025_directory_history), not from today's
    rows alone: every entry an account has been linked to is its own, and everyone who ever
    reported to one of those is below it, at any depth. A directory change only adds.

    Beside the history, every claim (migration 0034_directory_claims) counts, whatever its
    status says: an admin's change that would keep someone away from a case does so at once,
    before a key holder confirms it (cases/org/claims.py); only a refusal, which deletes the
    claim, lifts it."""
    links, edges = all_links(), all_edges()
    heads = (
        select(
            links.c.staff_id.label("staff_id"),
            links.c.employee_id.label("employee_id"),
            literal(True).label("own"),
        )
        .where(links.c.staff_id.in_(bindparam("ids", expanding=True)))
        .cte("chain", recursive=True)
    )
    below = select(heads.c.staff_id, edges.c.employee_id, literal(False)).join(
        heads, edges.c.manager_employee_id == heads.c.employee_id
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

__all__ = [
    "CHAIN_ENTRIES",
    "EDGE",
    "LINK",
    "all_edges",
    "all_links",
    "chain_tree",
    "entries_below",
]
