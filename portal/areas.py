"""Which paths are staff areas: the split the gate, the metrics and the held log share."""

from __future__ import annotations

# Paths (and everything under them) that only staff may send a body to.
STAFF_AREAS = (
    "/staff",
    "/admin",
    "/api/v1/staff",
    "/api/v1/cases",
    "/api/v1/disclosures",
    "/api/v1/rewards",
    "/api/v1/admin",
    "/api/v1/audit",
)
# Health checks, metrics and static files: no one's request, published at once.
PLUMBING = ("/healthz", "/readyz", "/metrics", "/static/")


def published_at_once(path: str) -> bool:
    """Staff areas and plumbing are published live; everything a reporter may visit is held."""
    if path.startswith(PLUMBING):
        return True
    return any(path == area or path.startswith(area + "/") for area in STAFF_AREAS)
