"""Griffe extension: Sphinx roles in docstrings become cross-references on the API page.

The docstrings use Sphinx roles (``:class:`~taskorder.TransferMatrix```, ``:func:`solve```),
which mkdocstrings would print as text. Each role is rewritten, once the package is loaded,
to an optional autorefs reference: the name is resolved in the docstring's own scope (as
Sphinx does), linked when its target is rendered on the site, and shown as code otherwise.
A ``~`` prefix shows only the last component, as in Sphinx.

This file is excluded from the site (``exclude_docs`` in mkdocs.yml).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const):`(?P<target>[^`]+)`")


def _target(obj: Any, name: str, loader: Any) -> str | None:
    """The canonical path of ``name`` seen from ``obj``, or None when it is not in the package."""
    head, _, rest = name.partition(".")
    candidates = [name]
    scope = obj if obj.is_module or obj.is_class else obj.parent
    try:
        resolved = scope.resolve(head)
        candidates.insert(0, f"{resolved}.{rest}" if rest else resolved)
    except (griffe.NameResolutionError, AttributeError):
        pass
    for candidate in candidates:
        try:
            return loader.modules_collection[candidate].canonical_path
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
    return None


def convert(text: str, obj: Any, loader: Any) -> str:
    """``text`` with every Sphinx role replaced by an optional autorefs reference."""

    def replace(match: re.Match) -> str:
        written = match["target"].strip()
        shown = written.removeprefix("~")
        if written.startswith("~"):
            shown = shown.rsplit(".", 1)[-1]
        title = f"<code>{html.escape(shown)}</code>"
        target = _target(obj, written.removeprefix("~"), loader)
        if target is None:
            return title
        return f'<autoref identifier="{html.escape(target)}" optional>{title}</autoref>'

    return ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of a loaded package."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._rewrite(pkg, loader, seen=set())

    def _rewrite(self, obj: Any, loader: Any, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None and ":`" in obj.docstring.value:
            obj.docstring.value = convert(obj.docstring.value, obj, loader)
        for member in obj.members.values():
            if not member.is_alias:
                self._rewrite(member, loader, seen)
