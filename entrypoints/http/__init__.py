"""The HTTP API (Litestar), mounted at /api."""

from entrypoints.http.app import PUBLIC_PREFIX, create_api_asgi, create_app

__all__ = ["PUBLIC_PREFIX", "create_api_asgi", "create_app"]
