"""Register every page of the web UI against one set of use cases (called once at start-up)."""

from __future__ import annotations

from entrypoints.container import Container
from entrypoints.web.deps import Web, WebOptions
from entrypoints.web.pages import (
    account,
    admin,
    analyze,
    auth,
    dashboard,
    detail,
    history,
    model,
    pacs,
    studies,
    study,
)


def register_ui(container: Container, options: WebOptions | None = None) -> Web:
    """Add the pages to NiceGUI's app; pages reach the core only through the container."""
    web = Web(core=container, options=options or WebOptions())
    pages = (auth, analyze, studies, study, pacs, history, detail, dashboard, model, admin, account)
    for page in pages:
        page.register(web)
    return web
