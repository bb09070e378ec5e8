"""Docs tooling: render the SDK's reST-flavoured docstrings as Markdown, without touching the source.

The docstrings are written for ``help()``, doctest and Sphinx-style readers: ``>>>`` examples, ``::``
literal blocks, simple reST tables and ``:class:`~x.Y``` roles. mkdocstrings renders docstrings as
Markdown, where ``>>>`` would become nested block quotes and the tables plain text. This Griffe
extension (registered in ``mkdocs.yml``) rewrites every docstring of the package once the package is
loaded:

* a run of ``>>>`` / ``...`` lines and their output becomes a ```` ```pycon ```` block (doctest flags
  such as ``# doctest: +SKIP`` are dropped);
* ``text::`` followed by an indented block becomes ``text:`` and a ```` ```python ```` block;
* a simple reST table (``====  ====`` borders) becomes a Markdown table;
* ``:class:`~pkg.Name``` and the other Python roles become cross-references (``<autoref optional>``,
  which links when the target is rendered in the site and stays plain code otherwise).

:func:`rst_to_markdown` is also used by ``docs/hooks.py`` to render tables from module docstrings
(the receiver's status table, the fake's emission table, the plugin's fixtures) into the guides.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import griffe

__all__ = ["ReSTToMarkdown", "rst_tables", "rst_to_markdown"]

_ROLE = re.compile(r":(?:py:)?(class|func|meth|attr|exc|data|mod|obj|const):`(~?)([^`<>]+?)`")
_BORDER = re.compile(r"^\s*=+(\s+=+)+\s*$")
_DOCTEST_FLAGS = re.compile(r"\s*#\s*doctest:\s*[+-][A-Z_]+(\s*,\s*[+-][A-Z_]+)*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")

Resolver = Callable[[str], "str | None"]


# --------------------------------------------------------------------------------------------- tables


def _columns(border: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", border)]


def _cells(line: str, columns: list[tuple[int, int]]) -> list[str]:
    cells = []
    for index, (start, end) in enumerate(columns):
        stop = None if index == len(columns) - 1 else columns[index + 1][0]
        del end
        cells.append(line[start:stop].strip())
    return cells


def _join(parts: tuple[str, ...]) -> str:
    """The lines of one cell as one line (a word hyphenated at a line end is joined without a space)."""
    text = ""
    for part in parts:
        if not part:
            continue
        text = text + part if text.endswith("-") or not text else f"{text} {part}"
    return text


def _md_table(header: list[list[str]], rows: list[list[str]]) -> list[str]:
    def merge(block: list[list[str]]) -> list[str]:
        return [_join(column) for column in zip(*block, strict=True)]

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    head = merge(header) if header else [""] * len(rows[0])
    lines = [row(head), "|" + "---|" * len(head)]
    lines.extend(row(cells) for cells in rows)
    return lines


def _convert_table(lines: list[str]) -> list[str]:
    """A simple reST table (starting and ending with a border line) as Markdown lines."""
    columns = _columns(lines[0])
    borders = [i for i, line in enumerate(lines) if _BORDER.match(line)]
    has_header = len(borders) >= 3
    header_end = borders[1] if has_header else 0
    header: list[list[str]] = [_cells(line, columns) for line in lines[1:header_end] if line.strip()]
    rows: list[list[list[str]]] = []
    for line in lines[header_end + 1 : borders[-1]]:
        if not line.strip() or _BORDER.match(line):
            continue
        cells = _cells(line, columns)
        if rows and (cells[0] == "" or not any(cells[1:])):
            # a continuation of the previous row: reST's (blank first column), or a first column that wraps
            rows[-1].append(cells)
        else:
            rows.append([cells])
    merged = [[_join(column) for column in zip(*block, strict=True)] for block in rows]
    return _md_table(header, merged)


def rst_tables(text: str) -> Iterator[tuple[int, int]]:
    """``(first, last)`` line indexes (inclusive) of each simple reST table in ``text``."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if _BORDER.match(lines[index]):
            first = index
            borders = [index]
            index += 1
            while index < len(lines):
                if _BORDER.match(lines[index]):
                    borders.append(index)
                    # a table ends with a border followed by a blank line (or the end of the text)
                    if len(borders) >= 2 and (index + 1 == len(lines) or not lines[index + 1].strip()):
                        break
                index += 1
            if len(borders) >= 2:
                yield first, index
        index += 1


# ---------------------------------------------------------------------------------------------- blocks


def _convert_blocks(text: str) -> str:
    """Doctest blocks, ``::`` literal blocks and tables; fenced blocks are left alone."""
    lines = text.splitlines()
    tables = dict(rst_tables(text))
    out: list[str] = []
    index = 0
    in_fence = False
    while index < len(lines):
        line = lines[index]
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            index += 1
            continue
        if in_fence:
            out.append(line)
            index += 1
            continue
        if index in tables:
            last = tables[index]
            indent = line[: len(line) - len(line.lstrip())]
            block = [entry[len(indent) :] for entry in lines[index : last + 1]]
            if out and out[-1].strip():
                out.append("")
            out.extend(indent + entry for entry in _convert_table(block))
            index = last + 1
            continue
        stripped = line.lstrip()
        if stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            block = []
            while index < len(lines) and lines[index].strip():
                block.append(_DOCTEST_FLAGS.sub("", lines[index][len(indent) :]).rstrip())
                index += 1
            if out and out[-1].strip():
                out.append("")
            out.extend([indent + "```pycon", *(indent + entry for entry in block), indent + "```"])
            continue
        if line.rstrip().endswith("::") and not stripped.startswith(("|", "-", "*")):
            # a literal block follows: ``text::`` (or a bare ``::``), a blank line, an indented block
            base = len(line) - len(stripped)
            probe = index + 1
            while probe < len(lines) and not lines[probe].strip():
                probe += 1
            if probe < len(lines) and len(lines[probe]) - len(lines[probe].lstrip()) > base:
                head = line.rstrip()[:-2].rstrip()
                out.append(head + ":" if head.strip() else "")
                block = []
                end = probe
                while end < len(lines) and (
                    not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > base
                ):
                    block.append(lines[end])
                    end += 1
                while block and not block[-1].strip():
                    block.pop()
                body = textwrap.dedent("\n".join(block)).splitlines()
                indent = " " * base
                if body and body[0].startswith(">>>"):  # a doctest shown as a literal block
                    language = "pycon"
                    body = [_DOCTEST_FLAGS.sub("", entry).rstrip() for entry in body]
                else:
                    language = "python"
                out.extend(["", indent + "```" + language, *(indent + entry for entry in body), indent + "```", ""])
                index = end
                continue
        out.append(line)
        index += 1
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------- roles


def _roles(text: str, resolve: Resolver | None) -> str:
    """Python roles as ``<autoref optional>`` cross-references, outside code fences and code spans."""

    def replace(match: re.Match[str]) -> str:
        role, short, target = match.group(1), match.group(2), match.group(3).strip()
        title = target.rsplit(".", 1)[-1] if short else target
        if role in ("func", "meth"):
            title += "()"
        code = f"<code>{html.escape(title)}</code>"
        identifier = resolve(target) if resolve is not None else None
        if identifier is None:
            return code
        return f'<autoref identifier="{html.escape(identifier)}" optional>{code}</autoref>'

    out: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        out.append(line if in_fence else _ROLE.sub(replace, line))
    return "\n".join(out)


def rst_to_markdown(text: str, resolve: Resolver | None = None) -> str:
    """The Markdown rendering of a reST-flavoured docstring (see the module docstring)."""
    return _roles(_convert_blocks(text), resolve)


# -------------------------------------------------------------------------------------------- resolving


def _resolver(obj: griffe.Object, root: griffe.Module) -> Resolver:
    def lookup(scope: Any, parts: list[str]) -> str | None:
        current = scope
        for part in parts:
            try:
                members = current.members
            except Exception:  # an alias that cannot be resolved (an external name)
                return None
            if part not in members:
                return None
            current = members[part]
        try:
            path = str(current.canonical_path) if isinstance(current, griffe.Alias) else str(current.path)
        except Exception:
            return None
        return path if path.startswith(root.path) else None

    def resolve(target: str) -> str | None:
        parts = target.split(".")
        if parts[0] == root.path:
            return lookup(root, parts[1:]) or target
        scope: Any = obj
        while scope is not None:
            found = lookup(scope, parts)
            if found is not None:
                return found
            scope = scope.parent
        return lookup(root, parts)

    return resolve


class ReSTToMarkdown(griffe.Extension):
    """Rewrite every docstring of the loaded package as Markdown (see the module docstring)."""

    def __init__(self, packages: tuple[str, ...] | list[str] = ("ordercloud_tracking",)) -> None:
        super().__init__()
        self._packages = frozenset(packages)
        self._done: set[int] = set()

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        del loader, kwargs
        if pkg.path in self._packages:  # never rewrite the docstrings of dependencies
            self._walk(pkg, pkg)

    def _walk(self, obj: griffe.Object, root: griffe.Module) -> None:
        docstring = obj.docstring
        if docstring is not None and id(docstring) not in self._done:
            self._done.add(id(docstring))
            docstring.value = rst_to_markdown(docstring.value, _resolver(obj, root))
        for member in obj.members.values():
            if not isinstance(member, griffe.Alias):
                self._walk(member, root)
