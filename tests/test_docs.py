"""The ``pycon`` examples of the documentation pages run and print what the pages say."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
PYCON = re.compile(r"^(?P<indent>[ ]*)```pycon\n(?P<body>.*?)^(?P=indent)```", re.MULTILINE | re.DOTALL)


def examples(page: str) -> str:
    """The ``pycon`` blocks of ``page``, dedented and joined (they share one namespace, as on the page)."""
    blocks = []
    for match in PYCON.finditer((DOCS / page).read_text(encoding="utf-8")):
        indent = len(match.group("indent"))
        blocks.append("\n".join(line[indent:] for line in match.group("body").splitlines()))
    return "\n\n".join(blocks)


@pytest.mark.parametrize("page", [page for page in PAGES if examples(page)])
def test_page_examples(page: str) -> None:
    test = doctest.DocTestParser().get_doctest(examples(page), {}, page, page, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} example(s) of {page} failed (see the output above)"


def test_some_pages_have_examples() -> None:
    assert {"guides/sitecore.md", "guides/receiving.md"} <= {page for page in PAGES if examples(page)}
