"""Every Python code block of README.md and docs/ runs as written, offline.

A block is what a reader sees: a ```` ```python ```` (or ``py``) block with its ``--8<--`` includes
expanded exactly as the site expands them (``pymdownx.snippets``, the settings of ``mkdocs.yml``). Each
one runs as a script in a fresh subprocess (working directory: an empty temporary folder; HTTP(S)
proxies pointed at a closed loopback port, so a request to any real host fails fast). A
```` ```pycon ```` block runs with :mod:`doctest`, continuing the session of the page's earlier
``pycon`` blocks, as a reader typing along would.

A block that cannot run offline says so in the page, on the line right before its fence::

    <!-- snippet: not-offline: needs a real OrderCloud marketplace -->

It is then only compiled, and listed by :func:`test_blocks_marked_not_offline_are_listed` — nothing is
skipped silently. A block that reads a secret from the environment, as production code should, names the
variables the page tells the reader to set::

    <!-- snippet: env: OC_HTTP_SECRET -->

It runs with each of them set to a fresh random value (never a value written in the docs). Blocks known
to fail today are in ``KNOWN_FAILING`` as strict xfails: fixing one makes its xfail "pass" and the suite
fail until the ID is removed, so the list can only shrink. ``make snippets-runtime`` runs the README's
blocks with the interpreter of a venv that has the runtime dependencies only (see :func:`_main`).
A block's ID is ``file:line`` of its opening fence.
"""

from __future__ import annotations

import doctest
import functools
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON_LANGS = frozenset({"python", "py", "python3"})
PYCON_LANGS = frozenset({"pycon"})
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<rest>.*)$")
MARKER = re.compile(r"<!--\s*snippet:\s*(?P<kind>[\w-]+)\s*(?::\s*(?P<reason>.*?))?\s*-->")
KINDS = frozenset({"not-offline", "env"})
RUN_KINDS = frozenset({None, "env"})  # the markers of blocks that are run
TIMEOUT = 60

# Blocks that cannot run offline, by ID: the marker's reason must be given on the page.
NOT_OFFLINE: frozenset[str] = frozenset(
    {
        "README.md:73",  # the quick start against your own marketplace
        "docs/guides/kafka.md:210",  # the receiver-to-Kafka wiring: your brokers
        "docs/guides/receiving.md:226",  # a Redis-backed DedupeStore: the redis package and a server
    }
)

# Blocks that fail as written today (issue 14 §1). Remove an ID when its block is fixed: the strict xfail
# fails the suite as soon as the block passes. Keep it empty: a new block runs as written, or says why not.
KNOWN_FAILING: frozenset[str] = frozenset()


@attrs.frozen
class Block:
    """One code block of a page, as the reader sees it."""

    page: str
    line: int
    lang: str
    source: str
    marker: str | None
    reason: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _pages() -> list[Path]:
    pages = [ROOT / "README.md"]
    pages += sorted(p for p in (ROOT / "docs").rglob("*.md") if "node_modules" not in p.relative_to(ROOT).parts)
    return pages


def _expand(lines: list[str]) -> str:
    """``--8<--`` includes expanded as mkdocs.yml's ``pymdownx.snippets`` expands them."""
    import markdown

    md = markdown.Markdown(
        extensions=["pymdownx.snippets"],
        extension_configs={
            "pymdownx.snippets": {"base_path": [str(ROOT)], "check_paths": True, "dedent_subsections": True}
        },
    )
    return "\n".join(md.preprocessors["snippet"].run(lines)) + "\n"


def _marker(lines: list[str], fence: int) -> tuple[str | None, str | None]:
    for previous in reversed(lines[:fence]):
        if previous.strip():
            found = MARKER.search(previous)
            return (found["kind"], found["reason"]) if found else (None, None)
    return None, None


def blocks_of(path: Path) -> list[Block]:
    """The Python and pycon blocks of one page, in order (fences inside other fences are text)."""
    page = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, ticks, lang = opening["indent"], opening["ticks"], opening["lang"].lower()
        closing = re.compile(rf"^[ \t]*{re.escape(ticks[0])}{{{len(ticks)},}}\s*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        if lang in PYTHON_LANGS | PYCON_LANGS:
            body = [
                line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[index + 1 : end]
            ]
            kind, reason = _marker(lines, index)
            found.append(Block(page, index + 1, lang, _expand(body), kind, reason))
        index = end + 1
    return found


BLOCKS = [block for page in _pages() for block in blocks_of(page)]


def _offline_env() -> dict[str, str]:
    closed = "http://127.0.0.1:9"
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY") and not k.startswith("OC_")}
    env.update(HTTP_PROXY=closed, HTTPS_PROXY=closed, ALL_PROXY=closed, NO_PROXY="127.0.0.1,localhost,::1")
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    return env


def _block_env(block: Block) -> dict[str, str]:
    """What the page tells the reader to set (an ``env`` marker), each to a fresh random value."""
    if block.marker != "env" or not block.reason:
        return {}
    return {name: secrets.token_urlsafe(24) for name in re.split(r"[\s,]+", block.reason.strip())}


def _run_script(block: Block, workdir: Path, python: str = sys.executable) -> str | None:
    """None when the block runs; else what went wrong."""
    script = workdir / "snippet.py"
    script.write_text(block.source, encoding="utf-8")
    try:
        done = subprocess.run(  # noqa: S603 - the documentation's own code, run as a user would
            [python, str(script)],
            cwd=workdir,
            env=_offline_env() | _block_env(block),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"did not finish within {TIMEOUT} s"
    if done.returncode == 0:
        return None
    output = (done.stderr or done.stdout).strip()
    last = output.splitlines()[-1] if output else "(no output)"
    return f"exit {done.returncode}: {last}\n{output[-3000:]}"


# Runs a page's pycon blocks in order in one namespace; prints a JSON list of failure reports per block.
_DOCTEST_DRIVER = """
import doctest, io, json, sys
blocks = json.load(sys.stdin)
globs = {"__name__": "__main__"}
flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
results = []
for name, text in blocks:
    out = io.StringIO()
    test = doctest.DocTestParser().get_doctest(text, globs, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=flags)
    runner.run(test, out=out.write, clear_globs=False)
    globs = test.globs
    results.append(out.getvalue() if runner.failures else None)
json.dump(results, sys.__stdout__)
"""


@functools.cache
def _pycon_results(page: str, workdir: str, python: str = sys.executable) -> dict[str, str | None]:
    blocks = [b for b in BLOCKS if b.page == page and b.lang in PYCON_LANGS and b.marker in RUN_KINDS]
    done = subprocess.run(  # noqa: S603 - the documentation's own code, run as a user would
        [python, "-c", _DOCTEST_DRIVER],
        input=json.dumps([[b.id, b.source] for b in blocks]),
        cwd=workdir,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    if done.returncode != 0:
        return {b.id: f"the doctest session crashed:\n{done.stderr[-3000:]}" for b in blocks}
    results: list[str | None] = json.loads(done.stdout)
    return {b.id: result for b, result in zip(blocks, results, strict=True)}


def _param(block: Block) -> object:
    marks = []
    if block.id in KNOWN_FAILING:
        marks.append(pytest.mark.xfail(strict=True, reason="fails as written today (issue 14 §1)"))
    return pytest.param(block, id=block.id, marks=marks)


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS if b.marker in RUN_KINDS])
def test_block_runs_as_written(block: Block, tmp_path_factory: pytest.TempPathFactory) -> None:
    if block.lang in PYCON_LANGS:
        workdir = tmp_path_factory.getbasetemp() / ("pycon-" + block.page.replace("/", "-"))
        workdir.mkdir(exist_ok=True)
        failure = _pycon_results(block.page, str(workdir))[block.id]
    else:
        failure = _run_script(block, tmp_path_factory.mktemp("snippet"))
    if failure is not None:
        pytest.fail(f"{block.id} ({block.lang}) does not run as written: {failure}", pytrace=False)


def test_marked_blocks_compile() -> None:
    """A block marked not-offline is not run, but it is still valid Python (or a valid pycon session)."""
    for block in BLOCKS:
        if block.marker != "not-offline":
            continue
        if block.lang in PYCON_LANGS:
            examples = doctest.DocTestParser().get_examples(block.source)
            assert examples, f"{block.id}: a pycon block without examples"
            for example in examples:
                compile(example.source, block.id, "single")
        else:
            compile(block.source, block.id, "exec")


def test_blocks_marked_not_offline_are_listed() -> None:
    """Each marker names a known kind and a reason, and the marked blocks are exactly NOT_OFFLINE."""
    for block in BLOCKS:
        if block.marker is not None:
            assert block.marker in KINDS, (
                f"{block.id}: unknown snippet marker {block.marker!r} (known: {sorted(KINDS)})"
            )
            assert block.reason, (
                f"{block.id}: a {block.marker} marker must say why (or what): <!-- snippet: KIND: ... -->"
            )
        if block.marker == "env":
            assert block.lang in PYTHON_LANGS, f"{block.id}: an env marker applies to a python block only"
            assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in _block_env(block)), block.id
    marked = {block.id for block in BLOCKS if block.marker == "not-offline"}
    assert marked == NOT_OFFLINE, (
        f"marked not-offline in the pages: {sorted(marked)}; listed here: {sorted(NOT_OFFLINE)}"
    )


def test_every_marker_precedes_a_block() -> None:
    """A snippet marker that is not right before a Python block would silently mark nothing."""
    attached = {(block.page, block.reason) for block in BLOCKS if block.marker is not None}
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for found in MARKER.finditer(text):
            where = f"{page.relative_to(ROOT).as_posix()}:{text.count(chr(10), 0, found.start()) + 1}"
            assert (page.relative_to(ROOT).as_posix(), found["reason"]) in attached, (
                f"{where}: the snippet marker is not on the line right before a python/pycon fence"
            )


def test_known_failing_and_not_offline_name_real_blocks() -> None:
    ids = {block.id for block in BLOCKS}
    assert ids >= KNOWN_FAILING, f"no such block: {sorted(KNOWN_FAILING - ids)}"
    assert ids >= NOT_OFFLINE, f"no such block: {sorted(NOT_OFFLINE - ids)}"
    assert not KNOWN_FAILING & NOT_OFFLINE


def test_the_harness_finds_the_blocks_it_must() -> None:
    """Guards the extraction itself: README, a tabbed (indented) block, an included example, pycon sessions."""
    ids = {block.id: block for block in BLOCKS}
    assert any(b.page == "README.md" and b.lang == "python" for b in BLOCKS)
    assert any(b.page == "docs/guides/sitecore.md" and b.lang == "pycon" for b in BLOCKS)
    quickstart = [b for b in ids.values() if b.page == "docs/index.md" and "--8<--" not in b.source]
    assert quickstart, "docs/index.md's quick start is an include; it must be expanded"
    assert all("--8<--" not in b.source for b in BLOCKS), "an include was left unexpanded"
    indented = [b for b in BLOCKS if (ROOT / b.page).read_text(encoding="utf-8").splitlines()[b.line - 1][:1].isspace()]
    assert indented, "no block inside a tab or admonition (an indented fence) was found"


def test_an_env_marker_sets_exactly_the_named_variables(tmp_path: Path) -> None:
    """The harness strips OC_* from the environment; an ``env`` marker gives the block fresh values back."""
    source = "import os\nassert len(os.environ['OC_HTTP_SECRET']) >= 24\nassert 'OC_OTHER' not in os.environ\n"
    marked = Block("page.md", 1, "python", source, "env", "OC_HTTP_SECRET")
    assert _run_script(marked, tmp_path) is None
    unmarked = attrs.evolve(marked, marker=None, reason=None)
    assert "KeyError: 'OC_HTTP_SECRET'" in (_run_script(unmarked, tmp_path) or "")
    assert _block_env(marked)["OC_HTTP_SECRET"] != _block_env(marked)["OC_HTTP_SECRET"]  # fresh each run


def test_the_receiving_guides_asgi_app_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    """Issue 14: the ASGI tab fell back to a public string, so a delivery forged with it got 200."""
    [asgi] = [b for b in BLOCKS if b.page == "docs/guides/receiving.md" and "asgi_app(handle" in b.source]
    assert asgi.marker == "env"
    assert asgi.reason == "OC_HTTP_SECRET"
    failure = _run_script(attrs.evolve(asgi, marker=None, reason=None), tmp_path)
    assert failure is not None
    assert "RuntimeError: OC_HTTP_SECRET is not set" in failure


def test_no_page_or_example_ships_a_fallback_secret() -> None:
    fallback = re.compile(r"environ\.get\(\s*[\"']OC_HTTP_SECRET[\"']\s*(,\s*[\"'][^\"']+[\"']\s*)?\)\s*(or\b)?")
    sources = {block.id: block.source for block in BLOCKS}
    sources |= {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "examples").glob("*.py")}
    for name, source in sources.items():
        for found in fallback.finditer(source):
            assert found.group(1) is None, f"{name}: a default secret: {found.group(0)}"
            assert found.group(2) is None, f"{name}: a fallback secret: {found.group(0)}"


def test_the_runtime_only_run_reports_a_failing_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``make snippets-runtime`` relies on the exit status of ``_main`` with another interpreter."""
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named httpx' >&2\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    assert _main(["--python", str(broken), "README.md"]) == 1
    first_runnable = next(b.id for b in BLOCKS if b.id.startswith("README.md:") and b.marker != "not-offline")
    assert f"{first_runnable}\tFAILS: exit 1: ModuleNotFoundError" in capsys.readouterr().out
    assert _main(["README.md"]) == 0


def test_the_readme_quick_start_is_the_home_pages() -> None:
    """README (read on GitHub and PyPI, where includes are not expanded) repeats examples/quickstart.py inline."""

    def code(block: Block) -> list[str]:
        return [line.strip() for line in block.source.splitlines() if line.strip()]

    readme = next(b for b in BLOCKS if b.page == "README.md" and b.marker is None)
    home = next(b for b in BLOCKS if b.page == "docs/index.md")
    assert code(readme) == [*code(home), "fake.close()"]


def _main(argv: list[str]) -> int:
    """``python tests/test_snippets.py [--python PY] [PAGE ...]``: each block's ID and whether it runs.

    Regenerates the lists above. ``--python`` runs the blocks with another interpreter, such as one of a venv
    with only the runtime dependencies (``make snippets-runtime``); the exit status is 1 when a block that is
    not in ``KNOWN_FAILING`` fails.
    """
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python tests/test_snippets.py")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs the blocks")
    parser.add_argument("pages", nargs="*", help="pages relative to the repository root (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.pages) - {block.page for block in BLOCKS}
    if unknown:
        parser.error(f"no python blocks in {sorted(unknown)}")
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        for block in BLOCKS:
            if args.pages and block.page not in args.pages:
                continue
            if block.marker == "not-offline":
                print(f"{block.id}\t{block.marker}: {block.reason}")
                continue
            workdir = Path(scratch) / block.id.replace("/", "-").replace(":", "-")
            workdir.mkdir()
            if block.lang in PYCON_LANGS:
                failure = _pycon_results(block.page, str(Path(scratch)), args.python)[block.id]
            else:
                failure = _run_script(block, workdir, args.python)
            print(f"{block.id}\t" + ("ok" if failure is None else "FAILS: " + failure.splitlines()[0]))
            failed += failure is not None and block.id not in KNOWN_FAILING
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
