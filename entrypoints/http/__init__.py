"""The HTTP API (Litestar), mounted at /api, and the inference protocol at /v2."""

from entrypoints.http.app import create_api_asgi, create_app
from entrypoints.http.routes.inference_protocol import InferenceRoute, create_inference_app

__all__ = ["InferenceRoute", "create_api_asgi", "create_app", "create_inference_app"]
