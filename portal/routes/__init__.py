"""The route table, collected from one module per area.

To add an area: create ``portal/routes/<area>.py`` with a module-level
``routes: list[BaseRoute]``, import it below and append it to ``_AREAS``.
Order matters only where paths overlap: earlier areas match first.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal.routes import (
    access,
    accounts,
    admin,
    auditor,
    caselist,
    export,
    flood,
    health,
    public,
    questionnaires,
    reporter,
    reporter_access,
    reporter_api,
    reporter_rewards,
    retention,
    rewards,
    rewards_api,
    second_reading,
    setup,
    staff,
    staff_api,
    statistics,
)

_AREAS = (
    public,
    health,
    setup,
    reporter,
    reporter_api,
    caselist,
    staff,
    staff_api,
    export,
    accounts,
    admin,
    access,
    statistics,
    auditor,
    reporter_access,
    rewards,
    rewards_api,
    reporter_rewards,
    flood,
    retention,
    second_reading,
    questionnaires,
)


def all_routes() -> list[BaseRoute]:
    """Every area's routes, in the order of ``_AREAS``."""
    return [route for area in _AREAS for route in area.routes]
