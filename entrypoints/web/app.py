"""Register every page of the web UI against one set of use cases (called once at start-up)."""

from __future__ import annotations

from entrypoints.web.deps import Web, WebOptions, WebUseCases
from entrypoints.web.pages import admin, analyze, auth, dashboard, detail, history, model


def register_ui(use_cases: WebUseCases, options: WebOptions | None = None) -> Web:
    """Add the pages to NiceGUI's app; pages reach the core only through `use_cases`."""
    web = Web(use_cases=use_cases, options=options or WebOptions())
    for page in (auth, analyze, history, detail, dashboard, model, admin):
        page.register(web)
    return web
