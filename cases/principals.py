"""Who is acting in a request, holding the secret their session unsealed."""

from __future__ import annotations

from dataclasses import dataclass

from cases.audit.service import Actor
from cases.reports.models import Receipt
from cases.staff.models import StaffAccount


@dataclass(frozen=True)
class StaffPrincipal:
    """A logged-in staff member and their unwrapped X25519 private key (this request only)."""

    account: StaffAccount
    private_key: bytes

    @property
    def id(self) -> str:
        return self.account.id

    @property
    def actor(self) -> Actor:
        return Actor("staff", self.account.id, tuple(sorted(self.account.role_names)))

    def has_role(self, role: str) -> bool:
        return self.account.has_role(role)


@dataclass(frozen=True)
class ReporterPrincipal:
    """A reporter session: the receipt row and the key derived from the receipt's verifier."""

    receipt: Receipt
    key: bytes
