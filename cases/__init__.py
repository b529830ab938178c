"""The domain: reports, cases, access policy, audit, rewards. Knows nothing of the web."""

from cases.errors import CaseError

__all__ = ["CaseError"]
