"""mkdocs hooks: render tables from the SDK's own data into the guides, so docs and code cannot drift.

A page asks for a table with an HTML comment on a line of its own; the build replaces it:

==============================  ======================================================================
Placeholder                     Rendered from
==============================  ======================================================================
``<!-- mapping-table -->``      ``ordercloud_tracking.sitecore.mapping.mapping_table_markdown()``
``<!-- mapping-notes -->``      the ``notes`` of each row of ``ordercloud_tracking.sitecore.EVENT_MAPPING``
``<!-- cli-hints -->``          ``ordercloud_tracking.cli.HINTS`` (ErrorCode → what to do)
``<!-- receiver-statuses -->``  the status table in the docstring of ``ordercloud_tracking.receiver``
``<!-- fake-emissions -->``     the "what emits what" table in the docstring of ``testing/fake.py``
``<!-- plugin-fixtures -->``    the fixture table in the docstring of ``ordercloud_tracking.testing.plugin``
``<!-- regions -->``            ``ordercloud_tracking._options.REGIONS``
``<!-- error-tree -->``         the error tree in the docstring of ``ordercloud_tracking._errors``
``<!-- api-root -->``           a ``:::`` block per name of ``ordercloud_tracking.__all__``, by section
==============================  ======================================================================

A placeholder whose source is missing fails the build (an exception, not a warning).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

_HERE = Path(__file__).resolve().parent


def _griffe_markdown() -> ModuleType:
    name = "ordercloud_tracking_docs_griffe_markdown"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _HERE / "griffe_markdown.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _docstring_table(doc: str | None, *, containing: str) -> str:
    """The reST table of ``doc`` whose text contains ``containing``, as Markdown."""
    if not doc:
        raise RuntimeError("docs/hooks.py: the module has no docstring to take a table from")
    tools = _griffe_markdown()
    lines = doc.splitlines()
    for first, last in tools.rst_tables(doc):
        block = "\n".join(lines[first : last + 1])
        if containing in block:
            import textwrap

            rendered: str = tools.rst_to_markdown(textwrap.dedent(block))
            return rendered.strip() + "\n"
    raise RuntimeError(f"docs/hooks.py: no table containing {containing!r} in the docstring")


def _mapping_table() -> str:
    from ordercloud_tracking.sitecore.mapping import mapping_table_markdown

    return mapping_table_markdown()


def _mapping_notes() -> str:
    from ordercloud_tracking.sitecore import EVENT_MAPPING

    return "".join(
        f"- **{row.operation}** (`{row.tracking_event_type.value}`): {row.notes}\n"
        for row in EVENT_MAPPING
        if row.notes
    )


def _cli_hints() -> str:
    from ordercloud_tracking.cli import HINTS

    lines = ["| `ErrorCode` | What to do |", "|---|---|"]
    lines.extend(f"| `{code}` | {hint.replace('|', chr(92) + '|')} |" for code, hint in HINTS.items())
    return "\n".join(lines) + "\n"


def _receiver_statuses() -> str:
    import ordercloud_tracking.receiver as receiver

    return _docstring_table(receiver.__doc__, containing="Status")


def _fake_emissions() -> str:
    """What the fake does, observed: each call is made on a fresh fake and its Http delivery is read back."""
    import json

    import httpx

    from ordercloud_tracking import PasswordGrant
    from ordercloud_tracking.messages import parse_message
    from ordercloud_tracking.provisioning import ensure_tracking
    from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

    mug = {"ID": "line-1", "ProductID": "SKU-MUG", "Quantity": 1}
    user = {"Username": "newbie", "FirstName": "N", "LastName": "B", "Email": "n@example.com", "Active": True}
    calls: list[tuple[str, Callable[[Any, Any], object], Callable[[Any, Any], object]]] = [
        (
            "`POST /oauth/token` (`grant_type=password`)",
            lambda f, s: None,
            lambda f, s: s.login("jane", "jane-password"),
        ),
        ("`PUT /v1/me/register?anonUserToken=…`", lambda f, s: None, lambda f, s: s.register(user)),
        (
            "`POST …/lineitems` (cart or `orders/{direction}/{id}`)",
            lambda f, s: None,
            lambda f, s: s.client.cart.add_line_item(mug),
        ),
        (
            "`PATCH …/lineitems/{id}` of an existing line",
            lambda f, s: s.client.cart.add_line_item(mug),
            lambda f, s: s.client.cart.patch_line_item("line-1", {"Quantity": 2}),
        ),
        (
            "`PUT …/lineitems/{id}` of an existing line",
            lambda f, s: s.client.cart.add_line_item(mug),
            lambda f, s: s.client.cart.save_line_item("line-1", {**mug, "Quantity": 2}),
        ),
        (
            "`PUT …/lineitems/{id}` of a new line",
            lambda f, s: None,
            lambda f, s: s.client.cart.save_line_item("line-1", mug),
        ),
        (
            "`POST /v1/cart/submit`, `POST …/{id}/submit`",
            lambda f, s: s.client.cart.add_line_item(mug),
            lambda f, s: s.client.cart.submit(),
        ),
        (
            "`DELETE …/lineitems/{id}`",
            lambda f, s: s.client.cart.add_line_item(mug),
            lambda f, s: s.client.cart.delete_line_item("line-1"),
        ),
        (
            "`PUT /v1/me/orders?anonUserToken=…` (TransferAnonUserOrder)",
            lambda f, s: s.client.cart.add_line_item(mug),
            lambda f, s: _transfer(f, s, PasswordGrant),
        ),
        (
            "`POST /oauth/token` (`client_credentials`, anonymous with `anonuserid`)",
            lambda f, s: None,
            lambda f, s: f.shopper(anon_user_id="beacon-2").client.get_access_token(),
        ),
    ]
    rows = [
        "| Call (in the context of API client `cid`) | TrackingEventType | `Headers.type` of the Http envelope "
        "| Message | `AnonymousId` |",
        "|---|---|---|---|---|",
    ]
    for label, setup, action in calls:
        received: list[bytes] = []

        def endpoint(request: httpx.Request, received: list[bytes] = received) -> httpx.Response:
            received.append(request.content)
            return httpx.Response(200)

        fake = FakeOrderCloud(http_delivery=endpoint)
        with fake.client() as admin:
            target = {"Http": {"Endpoint": "https://receiver.example/oc", "Secret": "docs"}}
            ensure_tracking(
                admin, client_id=STOREFRONT_CLIENT_ID, delivery_config={"Name": "docs", "DeliveryTargets": target}
            )
        session = fake.shopper(anon_user_id="beacon-1")
        setup(fake, session)
        received.clear()
        action(fake, session)
        fake.close()
        if not received:
            rows.append(f"| {label} | nothing | — | — | — |")
            continue
        body = json.loads(received[0])
        message = parse_message(received[0])
        anonymous = "yes" if message.user_context.anonymous_id else "no"
        rows.append(
            f"| {label} | `{message.event_type.value}` | `{body['Headers']['type']}` "
            f"| `{type(message).__name__}` | {anonymous} |"
        )
    return "\n".join(rows) + "\n"


def _transfer(fake: Any, session: Any, password_grant: Any) -> None:
    """TransferAnonUserOrder alone: jane logs in through the admin client, which has no tracking events."""
    from ordercloud_tracking.testing import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET

    grant = password_grant(ADMIN_CLIENT_ID, "jane", "jane-password", ADMIN_CLIENT_SECRET, scopes=("Shopper",))
    with fake.client(grant) as jane:
        jane.me.transfer_anon_user_order(session.client.get_access_token())


def _plugin_fixtures() -> str:
    import ordercloud_tracking.testing.plugin as plugin

    return _docstring_table(plugin.__doc__, containing="Fixture")


def _error_tree() -> str:
    import ordercloud_tracking._errors as errors

    doc = errors.__doc__ or ""
    start = doc.find("```")
    end = doc.find("```", start + 3)
    if start < 0 or end < 0:
        raise RuntimeError("docs/hooks.py: no fenced error tree in the docstring of ordercloud_tracking._errors")
    return "```text" + doc[start + 3 : end] + "```\n"


#: Sections of the ``ordercloud_tracking`` reference page, by the module that defines each public name.
_ROOT_SECTIONS: dict[str, tuple[str, str]] = {
    "ordercloud_tracking._client": (
        "Clients",
        "`OrderCloud` and `AsyncOrderCloud`: the same options, the same resources.",
    ),
    "ordercloud_tracking._auth": ("Grants and tokens", "How a client authenticates, and reading a token's claims."),
    "ordercloud_tracking._retry": (
        "Options",
        "The retry policy (see [errors, retries and timeouts](../guides/errors.md)).",
    ),
    "ordercloud_tracking._telemetry": (
        "Telemetry",
        "OpenTelemetry spans and metrics (see [observability](../guides/observability.md)).",
    ),
    "ordercloud_tracking._errors": (
        "Errors",
        "The error tree (see [errors, retries and timeouts](../guides/errors.md)).",
    ),
    "ordercloud_tracking.models.tracking": (
        "Models",
        "The models named at the top level; all models are in [`ordercloud_tracking.models`](models.md).",
    ),
    "ordercloud_tracking.models.delivery": ("Models", ""),
    "ordercloud_tracking._pagination": ("Models", ""),
}
_CLIENT_OPTIONS = "      inherited_members: true\n"
_CLIENT_KEYWORDS = """
Both constructors take the same keywords:

| Keyword | Default | Meaning |
|---|---|---|
| `client_id` | `None` | the API client's ID |
| `client_secret` | `None` | with `client_id`, makes a `ClientCredentials` grant (with `scopes`) |
| `grant` | `None` | `ClientCredentials`, `PasswordGrant`, `AnonymousGrant` or `StaticToken`; with no grant at all, calls need `access_token=` (or go through a `ShopperSession`) |
| `environment` | `"production"` | `production`, `staging` or `sandbox` |
| `region` | `"us-west"` | `us-west`, `us-east`, `australia-east`, `europe-west`, `japan-east` |
| `base_url` | `None` | an explicit API host (a fake, a proxy); wins over `environment`/`region`; a trailing `/v1` is dropped |
| `auth_url` | `None` | the token endpoint, or just the auth host; default `{base_url}/oauth/token` |
| `scopes` | `("FullAccess",)` | the roles requested by the `client_secret` grant |
| `timeout` | `30.0` | seconds, an `httpx.Timeout`, or `None` for no timeout |
| `max_retries` | `2` | retries after the first attempt |
| `default_headers` | `None` | headers sent with every request |
| `http_client` | `None` | your `httpx.Client` / `httpx.AsyncClient` (transport, proxies); the SDK never closes it |
| `owns_http_client` | `False` | `True` hands `http_client` over: closing the client closes it |
| `retry_policy` | `None` | a `RetryPolicy`; a `max_retries` other than the default 2 overrides its `max_retries` |
| `refresh_skew` | `60.0` | renew a token this many seconds before it expires |
"""


def _api_root() -> str:
    """``::: ordercloud_tracking.<name>`` for every name of ``__all__``, grouped by defining module."""
    import ordercloud_tracking

    sections: dict[str, list[str]] = {}
    intros: dict[str, str] = {}
    for name in ordercloud_tracking.__all__:
        if name.startswith("__"):
            continue
        # Classes report the package as their __module__ (their public home): group by where they are defined.
        module = "ordercloud_tracking" + ordercloud_tracking._LAZY[name]
        if module not in _ROOT_SECTIONS:
            raise RuntimeError(f"docs/hooks.py: no reference section for {name} (defined in {module})")
        title, intro = _ROOT_SECTIONS[module]
        sections.setdefault(title, []).append(name)
        if intro:
            intros.setdefault(title, intro)
    order = list(dict.fromkeys(title for title, _ in _ROOT_SECTIONS.values()))
    out: list[str] = []
    for title in order:
        names = sections.get(title, [])
        if not names:
            continue
        out += [f"## {title}", "", intros.get(title, ""), ""]
        if title == "Clients":
            out += [_CLIENT_KEYWORDS, ""]
        if title == "Clients":
            names = sorted(names, key=lambda n: (n != "OrderCloud", n))
        for name in names:
            out.append(f"::: ordercloud_tracking.{name}")
            out.append("    options:")
            out.append("      heading_level: 3")
            if title == "Clients":
                out.append(_CLIENT_OPTIONS.rstrip("\n"))
            out.append("")
    return "\n".join(out) + "\n"


def _regions() -> str:
    from ordercloud_tracking._options import ENVIRONMENTS, REGIONS

    lines = [
        "| `region` | " + " | ".join(f"`{env}`" for env in ENVIRONMENTS) + " |",
        "|---" * (len(ENVIRONMENTS) + 1) + "|",
    ]
    for region, urls in REGIONS.items():
        lines.append(f"| `{region}` | " + " | ".join(f"`{urls[env]}`" for env in ENVIRONMENTS) + " |")
    return "\n".join(lines) + "\n"


PLACEHOLDERS: dict[str, Callable[[], str]] = {
    "<!-- mapping-table -->": _mapping_table,
    "<!-- mapping-notes -->": _mapping_notes,
    "<!-- cli-hints -->": _cli_hints,
    "<!-- receiver-statuses -->": _receiver_statuses,
    "<!-- fake-emissions -->": _fake_emissions,
    "<!-- plugin-fixtures -->": _plugin_fixtures,
    "<!-- regions -->": _regions,
    "<!-- error-tree -->": _error_tree,
    "<!-- api-root -->": _api_root,
}


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace each placeholder line with the table it names."""
    del kwargs
    lines = markdown.splitlines(keepends=True)
    for index, line in enumerate(lines):
        render = PLACEHOLDERS.get(line.strip())
        if render is not None:
            lines[index] = render()
    return "".join(lines)
