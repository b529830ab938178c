"""directory_links and directory_edges: who an account has been, and whom each person reported to

Revision ID: 0025_directory_history
Revises: 0024_held_mentions
Create Date: 2026-11-30

The policy keeps a person away from a case that names them or someone below them in the
directory. It read who an account is (its directory entries) and who reports to whom from
today's directory only, so an import could lift an exclusion: a new employee id for the
accused, their e-mail moved to a fresh entry, the named rep moved under another manager.
Triggers on `directory_entries` and `staff_accounts` now record every link and every
management edge as it appears, in the changing transaction, whoever writes (the import, the
admin pages, the CLI, SQL by hand); the portal never removes them, and the policy reads
these (cases/access/chains.py). The current links and edges are copied in here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_directory_history"
down_revision: str | None = "0024_held_mentions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every statement below is made of these constants only, no input (S608).
ACCOUNT_MATCHES_ENTRY = (
    "(a.email = e.email OR (a.employee_id IS NOT NULL AND a.employee_id != '' "
    "AND e.employee_id = a.employee_id))"
)
EDGE_OF_NEW = (
    "SELECT NEW.employee_id, NEW.manager_employee_id "
    "WHERE NEW.manager_employee_id IS NOT NULL AND NEW.manager_employee_id != ''"
)
LINKS_OF_NEW_ENTRY = (
    "SELECT a.id, NEW.employee_id FROM staff_accounts a WHERE a.email = NEW.email "
    "OR (a.employee_id IS NOT NULL AND a.employee_id != '' AND a.employee_id = NEW.employee_id)"
)
LINKS_OF_NEW_ACCOUNT = (
    "SELECT NEW.id, e.employee_id FROM directory_entries e WHERE e.email = NEW.email "
    "OR (NEW.employee_id IS NOT NULL AND NEW.employee_id != '' "
    "AND e.employee_id = NEW.employee_id)"
)
ENTRY_COLUMNS = "employee_id, email, manager_employee_id"
ACCOUNT_COLUMNS = "email, employee_id"


def upgrade() -> None:
    op.create_table(
        "directory_links",
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_directory_links_staff_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", "employee_id", name=op.f("pk_directory_links")),
    )
    op.create_table(
        "directory_edges",
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("manager_employee_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "employee_id", "manager_employee_id", name=op.f("pk_directory_edges")
        ),
    )
    op.create_index(
        op.f("ix_directory_edges_manager_employee_id"), "directory_edges", ["manager_employee_id"]
    )
    op.execute(
        "INSERT INTO directory_links (staff_id, employee_id) "  # noqa: S608
        "SELECT DISTINCT a.id, e.employee_id "
        f"FROM staff_accounts a JOIN directory_entries e ON {ACCOUNT_MATCHES_ENTRY}"
    )
    op.execute(
        "INSERT INTO directory_edges (employee_id, manager_employee_id) "
        "SELECT employee_id, manager_employee_id FROM directory_entries "
        "WHERE manager_employee_id IS NOT NULL AND manager_employee_id != ''"
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    entry = (
        f"INSERT OR IGNORE INTO directory_edges (employee_id, manager_employee_id) {EDGE_OF_NEW}; "
        f"INSERT OR IGNORE INTO directory_links (staff_id, employee_id) {LINKS_OF_NEW_ENTRY};"
    )
    account = (
        f"INSERT OR IGNORE INTO directory_links (staff_id, employee_id) {LINKS_OF_NEW_ACCOUNT};"
    )
    op.execute(
        f"CREATE TRIGGER directory_history_entry_insert AFTER INSERT ON directory_entries "
        f"BEGIN {entry} END"
    )
    op.execute(
        f"CREATE TRIGGER directory_history_entry_update AFTER UPDATE OF {ENTRY_COLUMNS} "
        f"ON directory_entries BEGIN {entry} END"
    )
    op.execute(
        f"CREATE TRIGGER directory_history_account_insert AFTER INSERT ON staff_accounts "
        f"BEGIN {account} END"
    )
    op.execute(
        f"CREATE TRIGGER directory_history_account_update AFTER UPDATE OF {ACCOUNT_COLUMNS} "
        f"ON staff_accounts BEGIN {account} END"
    )


def _postgres_triggers() -> None:
    op.execute(
        "CREATE FUNCTION directory_history_entry() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO directory_edges (employee_id, manager_employee_id) {EDGE_OF_NEW} "
        "ON CONFLICT DO NOTHING; "
        f"INSERT INTO directory_links (staff_id, employee_id) {LINKS_OF_NEW_ENTRY} "
        "ON CONFLICT DO NOTHING; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE FUNCTION directory_history_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO directory_links (staff_id, employee_id) {LINKS_OF_NEW_ACCOUNT} "
        "ON CONFLICT DO NOTHING; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER directory_history_entry AFTER INSERT OR UPDATE OF "
        f"{ENTRY_COLUMNS} ON directory_entries FOR EACH ROW "
        "EXECUTE FUNCTION directory_history_entry()"
    )
    op.execute(
        "CREATE TRIGGER directory_history_account AFTER INSERT OR UPDATE OF "
        f"{ACCOUNT_COLUMNS} ON staff_accounts FOR EACH ROW "
        "EXECUTE FUNCTION directory_history_account()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS directory_history_entry ON directory_entries")
        op.execute("DROP TRIGGER IF EXISTS directory_history_account ON staff_accounts")
        op.execute("DROP FUNCTION IF EXISTS directory_history_entry()")
        op.execute("DROP FUNCTION IF EXISTS directory_history_account()")
    else:
        for name in ("entry_insert", "entry_update", "account_insert", "account_update"):
            op.execute(f"DROP TRIGGER IF EXISTS directory_history_{name}")
    op.drop_index(op.f("ix_directory_edges_manager_employee_id"), table_name="directory_edges")
    op.drop_table("directory_edges")
    op.drop_table("directory_links")
