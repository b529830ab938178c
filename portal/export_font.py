"""Which CJK font PDF case exports embed: found without importing fpdf2 (about 50 MiB), so
that `portal doctor` can check it, and an export can be refused before it is audited."""

from __future__ import annotations

from pathlib import Path

# Debian's fonts-wqy-zenhei (installed by .ci/run and docs/deploy.md step 1), then
# fonts-noto-cjk; the face index of Simplified Chinese in each collection.
FONT_CANDIDATES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
)
FONT_MISSING = (
    "No CJK font for PDF case exports: install Debian's fonts-wqy-zenhei (or fonts-noto-cjk), "
    "or set PORTAL_EXPORT_FONT to a TrueType font file (.ttf, or .ttc for its first face)."
)


class ExportFontMissing(RuntimeError):
    """The configured font is not there, or none of the known ones is installed."""


def find_font(configured: Path | None) -> tuple[Path, int]:
    """The font file (and face index) to embed; ExportFontMissing says what to install."""
    if configured is not None:
        if configured.is_file():
            return configured, 0
        raise ExportFontMissing(
            f"PORTAL_EXPORT_FONT is {configured}, which is no file. " + FONT_MISSING
        )
    for path, index in FONT_CANDIDATES:
        if path.is_file():
            return path, index
    raise ExportFontMissing(FONT_MISSING)
