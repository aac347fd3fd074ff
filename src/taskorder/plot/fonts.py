"""Fonts for task names: glyph fallback, so names in any script do not render as boxes.

Matplotlib draws a character its font lacks as an empty box. :func:`text_fonts` picks, for
the names on a figure, the default font followed by installed fonts that cover the
characters it lacks (matplotlib >= 3.6 falls back along that list glyph by glyph). When
no installed font covers a character, one :class:`MissingGlyphWarning` names the
characters and the fix (install a font that has them, e.g. Noto Sans CJK for Chinese,
Japanese or Korean names); matplotlib's own per-glyph warnings are then not repeated.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterable, Iterator

__all__ = ["MissingGlyphWarning", "font_families", "text_fonts"]

#: Fonts never used as a fallback: matplotlib's "Last Resort" font draws every glyph as a box.
_NOT_FALLBACKS = ("Last Resort",)


class MissingGlyphWarning(UserWarning):
    """Some characters of the task names are in no installed font; they render as boxes."""


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib import ft2font

    try:
        return frozenset(ft2font.FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


def _candidates() -> list[tuple[str, str]]:
    """(family name, file) of the installed regular-style fonts, one file per family."""
    from matplotlib import font_manager

    seen: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.name.startswith(_NOT_FALLBACKS) or entry.style != "normal":
            continue
        if entry.weight in (400, "normal", "regular", "book") or entry.name not in seen:
            seen[entry.name] = entry.fname
    return sorted(seen.items())


def font_families(texts: Iterable[str]) -> tuple[list[str], set[str]]:
    """The font family list for ``texts`` and the characters no installed font has.

    The list starts with the font matplotlib uses by default; fonts are added, most
    covering first, until every character of ``texts`` is covered or none is left.
    """
    import matplotlib
    from matplotlib import font_manager

    default = font_manager.findfont(
        font_manager.FontProperties(family=matplotlib.rcParams["font.family"])
    )
    families = [font_manager.get_font(default).family_name]
    needed = {ord(char) for text in texts for char in str(text) if not char.isspace()}
    missing = needed - _charmap(default)
    while missing:
        coverage = [
            (len(missing & _charmap(path)), name, path)
            for name, path in _candidates()
            if name not in families
        ]
        best = max(coverage, default=(0, "", ""))
        if best[0] == 0:
            break
        families.append(best[1])
        missing -= _charmap(best[2])
    return families, {chr(code) for code in missing}


@contextlib.contextmanager
def text_fonts(texts: Iterable[str]) -> Iterator[list[str]]:
    """Context in which new text uses :func:`font_families` of ``texts``; warns once for
    characters no font has (and silences matplotlib's per-glyph warnings inside it)."""
    import matplotlib

    families, missing = font_families(texts)
    if missing:
        shown = "".join(sorted(missing)[:20])
        warnings.warn(
            f"No installed font has the characters {shown!r} of the task names; they will "
            "render as boxes. Install a font that covers them (e.g. Noto Sans CJK for Chinese, "
            "Japanese or Korean names) and matplotlib finds it after its font cache is rebuilt.",
            MissingGlyphWarning,
            stacklevel=3,
        )
    with matplotlib.rc_context({"font.family": families}), quiet_glyph_warnings():
        yield families


@contextlib.contextmanager
def quiet_glyph_warnings() -> Iterator[None]:
    """Silence matplotlib's per-glyph "missing from font(s)" warnings (already reported once)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        yield
