"""The plugin's async fixture under the two async runners, and what a test run without one says.

``oc_async_client`` is a plain (sync) fixture, so it needs no async plugin itself; the ``async def`` tests
(and async fixtures) that use it need pytest-asyncio or anyio, as the plugin's docstring says.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

ASYNCIO_TESTS = """
import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def admin_name(oc_async_client):
    return (await oc_async_client.me.get()).username


@pytest.mark.asyncio
async def test_marked(oc_fake, oc_async_client):
    assert (await oc_async_client.me.get()).username == "admin"
    assert [entry.path for entry in oc_fake.requests] == ["/oauth/token", "/v1/me"]


@pytest.mark.asyncio
async def test_an_async_fixture_of_your_own(admin_name):
    assert admin_name == "admin"
"""

AUTO_MODE_TESTS = """
async def test_unmarked(oc_async_client):
    assert (await oc_async_client.me.get()).username == "admin"
"""

ANYIO_TESTS = """
import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def admin_name(oc_async_client):
    return (await oc_async_client.me.get()).username


@pytest.mark.anyio
async def test_marked(oc_fake, oc_async_client, admin_name):
    assert admin_name == "admin"
    assert (await oc_async_client.tracking_events.list()).meta.total_count == 0
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", *args)


def test_under_pytest_asyncio(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_asyncio=ASYNCIO_TESTS)

    run(pytester, "-p", "no:anyio").assert_outcomes(passed=2)


def test_under_pytest_asyncio_auto_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "asyncio_mode = auto\n")
    pytester.makepyfile(test_auto=AUTO_MODE_TESTS)

    run(pytester, "-p", "no:anyio").assert_outcomes(passed=1)


def test_under_anyio(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_anyio=ANYIO_TESTS)

    run(pytester, "-p", "no:asyncio").assert_outcomes(passed=1)


def test_without_an_async_runner_the_failure_names_what_to_install(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_plain=AUTO_MODE_TESTS)

    result = run(pytester, "-p", "no:asyncio", "-p", "no:anyio")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*", "*anyio*", "*pytest-asyncio*"])
