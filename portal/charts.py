"""Bar charts drawn on the server as SVG geometry: no script, no other origin, no style attribute.

The template (templates/statistics/_chart.html) writes the SVG inline with classes only, so
the strict CSP (style-src 'self') holds; each chart is an image with a title for screen
readers, and the table beside it carries the same figures. A suppressed figure has no bar,
only its "< 5" label: a bar's length would tell the value it hides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cases.stats.suppression import Figure

WIDTH = 640
LABEL_WIDTH = 200
VALUE_WIDTH = 60
ROW_HEIGHT = 24
BAR_HEIGHT = 16


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str
    y: int
    width: int

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 3


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    bar_x: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT
    unit: str = ""

    def value_x(self, bar: Bar) -> int:
        return self.bar_x + bar.width + 6


def bar_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Figure]],
    suppressed_text: str,
    *,
    unit: str = "",
    scale_max: int | None = None,
) -> Chart:
    """Horizontal bars, one per row, scaled to the largest shown value (or `scale_max`)."""
    values = [f.value for _label, f in rows if f.value is not None]
    top = scale_max or max(values, default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = [
        Bar(
            label=label,
            shown=suppressed_text if figure.value is None else f"{figure.value}{unit}",
            y=4 + i * ROW_HEIGHT,
            width=0 if figure.value is None else max(1, round(room * figure.value / top)),
        )
        for i, (label, figure) in enumerate(rows)
    ]
    return Chart(chart_id, title, bars, 8 + len(rows) * ROW_HEIGHT, unit=unit)


__all__ = ["Bar", "Chart", "bar_chart"]
