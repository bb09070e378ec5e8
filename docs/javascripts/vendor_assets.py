"""mkdocs hook: ship the site's third-party JavaScript with the site (no CDN, works offline).

Each asset comes from an npm package pinned by ``docs/javascripts/package-lock.json``; ``make docs``
(and ``make unit``) run ``npm ci --prefix docs/javascripts`` first. The hook adds each file to the
build under ``javascripts/vendor/`` (``javascripts/diagrams.js`` loads mermaid from there) and
fails the build with the command to run when ``node_modules`` is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

_HERE = Path(__file__).resolve().parent

#: built-site path -> file inside docs/javascripts/node_modules
VENDORED = {
    "javascripts/vendor/mermaid.tiny.js": "@mermaid-js/tiny/dist/mermaid.tiny.js",
}


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    for site_path, package_path in VENDORED.items():
        source = _HERE / "node_modules" / package_path
        if not source.is_file():
            raise PluginError(
                f"{source} is missing: run `npm ci --prefix docs/javascripts` (or `make docs`) "
                "to install the site's pinned JavaScript assets"
            )
        files.append(File.generated(config, site_path, abs_src_path=str(source)))
    return files
