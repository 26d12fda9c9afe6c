"""The Open Inference Protocol (KServe V2) under /v2, for integrators' model clients.

Served by its own small Litestar app (`create_inference_app`) routed beside the UI and the
API (`InferenceRoute`), over the same container: the same inference adapter (one model in
memory), the same bearer tokens. Health and server metadata are public, like /api/health;
model metadata, readiness and inference need a signed-in account. Inference takes `image`
UINT8 [N,128,128,3] as JSON `data` or as binary tensor data (the `binary_tensor_data`
extension: `Inference-Header-Content-Length` says where the JSON ends), and answers with the
outputs asked for (every output when none is named), each as JSON or binary as requested.
Errors are the protocol's `{"error": "..."}` (with the stable `code` beside it): 400 for a bad
request, 401 without a valid token, 404 for an unknown model or version, 413 for a body over
the limit (a full batch as JSON).
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, Scope, Send

from application.commands import CheckReadiness, DescribeModel, InferTensors, TensorResult
from application.ports import ModelInfo, Tensor
from application.use_cases import CheckReadinessUseCase, DescribeModelUseCase, InferTensorsUseCase
from application.use_cases.infer_tensors import (
    IMAGE_DATATYPE,
    IMAGE_INPUT,
    OUTPUT_DATATYPE,
    tensor_outputs,
)
from domain.errors import DomainError, ErrorCode, NotFound
from entrypoints.container import Container, use_case_providers
from entrypoints.http.app import observed
from entrypoints.http.auth import CurrentUser, current_user, require_user
from entrypoints.http.errors import error_headers, status_of
from entrypoints.http.headers import security_headers
from entrypoints.http.limits import MAX_JSON_DEPTH, json_depth

logger = logging.getLogger("breastscan.http")

PREFIX = "/v2"
MODEL_NAME = "breast-cnn"
PLATFORM = "onnxruntime_onnx"
HEADER_LENGTH = "inference-header-content-length"
IMAGE_VALUES = 128 * 128 * 3
JSON_BYTES_PER_VALUE = 6  # "255, " and room for nesting: a full batch fits as JSON data
MODEL_PATHS = [
    f"{PREFIX}/models/{{model:str}}",
    f"{PREFIX}/models/{{model:str}}/versions/{{v:str}}",
]
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
OUTPUT_SHAPES = {"p_malignant": [-1], "cam": [-1, -1, -1], "lesion": [-1, 128, 128]}


def max_body_bytes(max_batch: int) -> int:
    """The largest /infer body: `max_batch` images as JSON data, plus the request's framing."""
    return max_batch * IMAGE_VALUES * JSON_BYTES_PER_VALUE + 64 * 1024


# --- wire format ---------------------------------------------------------------------


class InputIn(msgspec.Struct):
    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)
    data: Any = None


class OutputIn(msgspec.Struct):
    name: str
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)


class InferRequestIn(msgspec.Struct):
    inputs: list[InputIn]
    id: str | None = None
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)
    outputs: list[OutputIn] | None = None

    def binary(self, output: str) -> bool:
        """Whether `output` goes back as binary data (per output, else the request's default)."""
        default = bool(self.parameters.get("binary_data_output", False))
        for asked in self.outputs or ():
            if asked.name == output:
                return bool(asked.parameters.get("binary_data", default))
        return default


def _invalid(reason: str) -> DomainError:
    return DomainError(
        f"Invalid inference request: {reason}.", ErrorCode.INFER_REQUEST_INVALID, reason=reason
    )


def _flat(data: object) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    if not data or not isinstance(data[0], list):
        return data
    return [value for item in data for value in _flat(item)]


def _json_bytes(tensor: InputIn) -> bytes:
    if tensor.data is None:
        raise _invalid(f"input {tensor.name!r} has neither data nor binary_data_size")
    if tensor.datatype != IMAGE_DATATYPE:
        return b""  # refused by the use case, which names the datatype it takes
    try:
        return bytes(_flat(tensor.data))
    except (TypeError, ValueError):
        raise _invalid(f"the data of {tensor.name!r} must be integers from 0 to 255") from None


def parse_infer_request(body: bytes, header_length: str | None) -> InferRequestIn:
    """The request's JSON and its inputs' bytes (binary data follows the JSON, in order)."""
    split = len(body)
    if header_length is not None:
        if not header_length.isdigit() or not 0 < int(header_length) <= len(body):
            raise _invalid("Inference-Header-Content-Length must lie within the body")
        split = int(header_length)
    header, binary = body[:split], memoryview(body)[split:]
    if json_depth(header) > MAX_JSON_DEPTH:
        raise _invalid(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        request = msgspec.json.decode(header, type=InferRequestIn)
    except msgspec.MsgspecError as error:
        raise _invalid(str(error)) from None
    offset = 0
    for tensor in request.inputs:
        size = tensor.parameters.get("binary_data_size")
        if size is None:
            tensor.data = _json_bytes(tensor)
            continue
        if not isinstance(size, int) or size < 0 or offset + size > len(binary):
            raise _invalid(f"binary_data_size of {tensor.name!r} runs past the body")
        tensor.data = bytes(binary[offset : offset + size])
        offset += size
    if offset != len(binary):
        raise _invalid("the binary data is longer than the inputs' binary_data_size")
    return request


def _inputs(request: InferRequestIn) -> tuple[Tensor, ...]:
    return tuple(Tensor(t.name, t.datatype, tuple(t.shape), t.data) for t in request.inputs)


def infer_response(result: TensorResult, request: InferRequestIn) -> Response[bytes]:
    """The protocol's response: each output as JSON data or, when asked, as binary data."""
    outputs: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    for tensor in result.outputs:
        entry: dict[str, Any] = {
            "name": tensor.name,
            "datatype": tensor.datatype,
            "shape": list(tensor.shape),
        }
        if request.binary(tensor.name):
            entry["parameters"] = {"binary_data_size": len(tensor.data)}
            blobs.append(tensor.data)
        else:
            entry["data"] = array("f", tensor.data).tolist()
        outputs.append(entry)
    body: dict[str, Any] = {
        "model_name": MODEL_NAME,
        "model_version": result.model_version,
        "outputs": outputs,
    }
    if request.id is not None:
        body["id"] = request.id
    header = msgspec.json.encode(body)
    if not blobs:
        return Response(header, media_type=MediaType.JSON)
    return Response(
        b"".join([header, *blobs]),
        media_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(len(header))},
    )


def _served(model: str, v: str | None, info: ModelInfo) -> None:
    """Raise NotFound unless `model` (at version `v`, when given) is the one served."""
    if model != MODEL_NAME or v not in (None, info.version):
        shown = model if v is None else f"{model} version {v}"
        raise NotFound(
            f"No model {shown} here; this server has {MODEL_NAME} version {info.version}.",
            ErrorCode.MODEL_NOT_FOUND,
            name=model,
            version=v or "",
        )


# --- handlers --------------------------------------------------------------------------


def _package_version() -> str:
    try:
        return version("breastscan")
    except PackageNotFoundError:
        return "0.0.0"


@get(PREFIX, cache_control=None)
async def server_metadata() -> dict[str, Any]:
    """The server's name, version and protocol extensions."""
    return {
        "name": "breastscan",
        "version": _package_version(),
        "extensions": ["binary_tensor_data"],
    }


@get(f"{PREFIX}/health/live")
async def server_live() -> dict[str, Any]:
    """200 while the process answers."""
    return {}


def _ready_response(ready: bool) -> Response[dict[str, Any]]:
    return Response({} if ready else {"error": "Not ready."}, status_code=200 if ready else 400)


@get(f"{PREFIX}/health/ready")
async def server_ready(
    check_readiness: NamedDependency[CheckReadinessUseCase],
) -> Response[dict[str, Any]]:
    """200 when the database and the model are ready, else 400 (the protocol's "not ready")."""
    return _ready_response((await check_readiness(CheckReadiness())).ready)


@get([f"{path}/ready" for path in MODEL_PATHS])
async def model_ready(
    user: CurrentUser,
    model: str,
    describe_model: NamedDependency[DescribeModelUseCase],
    check_readiness: NamedDependency[CheckReadinessUseCase],
    v: str | None = None,
) -> Response[dict[str, Any]]:
    """200 when this model (version) is loaded and can answer, else 400."""
    _served(model, v, await describe_model(DescribeModel()))
    return _ready_response((await check_readiness(CheckReadiness())).model is not None)


@get(MODEL_PATHS)
async def model_metadata(
    user: CurrentUser,
    model: str,
    describe_model: NamedDependency[DescribeModelUseCase],
    v: str | None = None,
) -> dict[str, Any]:
    """The model's name, version, platform and tensors (-1: a dimension of any size)."""
    info = await describe_model(DescribeModel())
    _served(model, v, info)
    size = info.input_size
    return {
        "name": MODEL_NAME,
        "versions": [info.version],
        "platform": PLATFORM,
        "inputs": [{"name": IMAGE_INPUT, "datatype": IMAGE_DATATYPE, "shape": [-1, size, size, 3]}],
        "outputs": [
            {"name": name, "datatype": OUTPUT_DATATYPE, "shape": OUTPUT_SHAPES[name]}
            for name in tensor_outputs(info)
        ],
    }


@post([f"{path}/infer" for path in MODEL_PATHS], status_code=200)
async def infer(
    request: Request[Any, Any, Any],
    user: CurrentUser,
    model: str,
    describe_model: NamedDependency[DescribeModelUseCase],
    infer_tensors: NamedDependency[InferTensorsUseCase],
    v: str | None = None,
) -> Response[bytes]:
    """Run the model on `image` UINT8 [N,128,128,3]: p_malignant, cam and lesion (model 2.0)."""
    _served(model, v, await describe_model(DescribeModel()))
    call = parse_infer_request(await request.body(), request.headers.get(HEADER_LENGTH))
    wanted = tuple(output.name for output in call.outputs or ())
    result = await infer_tensors(InferTensors(actor=user, inputs=_inputs(call), outputs=wanted))
    return infer_response(result, call)


# --- errors, the app and its route -------------------------------------------------------


def _error(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    body = msgspec.json.encode({"error": message, "code": code})
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers or {})


def handle_domain_error(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    status = 400 if status in (415, 422) else status  # the protocol's word for a bad request
    return _error(status, exc.message, exc.code.value, error_headers(exc))


def handle_http_exception(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, HTTPException)
    status = 400 if exc.status_code in (415, 422) else exc.status_code
    detail = exc.detail if status < 500 else "Internal server error."
    code = HTTP_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    return _error(status, detail, code, dict(exc.headers or {}))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, "Internal server error.", "internal_error")


def create_inference_app(container: Container) -> Litestar:
    """The /v2 app over `container` (whose resources the API app's lifespan opens and closes)."""
    settings = container.settings()

    def provide(provider: Callable[[], object]) -> Provide:
        return Provide(lambda: provider(), sync_to_thread=False)

    dependencies = {name: provide(p) for name, p in use_case_providers(container).items()}
    dependencies["user"] = Provide(current_user)
    protected = Router(
        "/",
        guards=[require_user(container.resolve_current_user)],
        route_handlers=[model_ready, model_metadata, infer],
    )
    app = Litestar(
        route_handlers=[server_metadata, server_live, server_ready, protected],
        dependencies=dependencies,
        exception_handlers={
            DomainError: handle_domain_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        middleware=[security_headers],
        request_max_body_size=max_body_bytes(settings.max_files_per_request),
        openapi_config=None,
    )
    quiet = frozenset(f"{PREFIX}/health/{probe}" for probe in ("live", "ready"))
    app.asgi_handler = observed(app.asgi_handler, container, quiet)
    return app


class InferenceRoute:
    """ASGI: /v2 and everything under it go to the inference app, the rest (lifespan too) to
    `app`. The outermost layer in both servers (NiceGUI's middleware, the API-only app)."""

    def __init__(self, app: ASGIApp, inference: ASGIApp) -> None:
        self.app = app
        self.inference = inference

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        routed = scope["type"] == ScopeType.HTTP and (
            path == PREFIX or path.startswith(PREFIX + "/")
        )
        await (self.inference if routed else self.app)(scope, receive, send)


__all__: Sequence[str] = ["InferenceRoute", "create_inference_app", "max_body_bytes"]
