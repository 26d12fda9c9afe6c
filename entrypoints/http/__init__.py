"""The HTTP API (Litestar), mounted at /api."""

from entrypoints.http.app import create_api_asgi, create_app

__all__ = ["create_api_asgi", "create_app"]
