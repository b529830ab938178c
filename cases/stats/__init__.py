"""Statistics of the channel from clear metadata only, with small counts suppressed."""

from cases.stats.service import (
    Statistics,
    StatisticsService,
    StatsFilters,
    parse_filters,
)
from cases.stats.suppression import THRESHOLD, Figure

__all__ = [
    "THRESHOLD",
    "Figure",
    "Statistics",
    "StatisticsService",
    "StatsFilters",
    "parse_filters",
]
