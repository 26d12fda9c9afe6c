"""OpenAPI document and its Swagger UI, served entirely from this server (no CDN).

Hospital networks are often closed: the UI's JavaScript and CSS are vendored under
static/swagger-ui (swagger-ui-dist, see VERSION.txt) and the page references nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    Schema,
    SecurityScheme,
    Server,
    Tag,
)
from litestar.static_files import create_static_files_router

from domain.errors import ErrorCode

STATIC_DIR = Path(__file__).resolve().parent / "static"
BEARER_SCHEME = "BearerToken"
DESCRIPTION = """\
Breastscan estimates the probability that a breast ultrasound image shows a malignant
lesion and where the network looked (a class-activation heatmap). **It is a decision aid,
not a diagnosis.**

Sign in with `POST /api/auth/login` and send the returned `access_token` as
`Authorization: Bearer <token>`.

Errors are JSON: `{"status_code", "error", "code", "params", "detail"}`. `error` is the kind
of failure (one per status), `code` the stable machine code (the kind itself, or a code that
refines it) and `params` what its sentence needs (counts, limits, the file name);
`detail` is an English sentence for people. Match on `code`, never on `detail`.
"""


def error_codes_markdown(status_by_kind: Mapping[ErrorCode, int]) -> str:
    """The error-code section of the API description, from the codes themselves."""
    kinds = "\n".join(f"| `{kind}` | {status} |" for kind, status in status_by_kind.items())
    refined = ", ".join(f"`{code}`" for code in ErrorCode if code not in status_by_kind)
    return (
        "\n\n### Error codes\n\n| kind (`error` and bare `code`) | HTTP status |\n| --- | --- |\n"
        f"{kinds}\n\nCodes that refine a kind: {refined}. "
        "Requests the API refuses before any use case runs (a malformed body, a wrong method) "
        "answer with `error` = `code` = `bad_request`, `method_not_allowed`, `request_too_large`, "
        "`unsupported_media_type`, `not_found` or `internal_error`.\n"
    )


class LocalSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Swagger UI whose assets and start-up script are all served by this app."""

    def __init__(self, static_url: str, spec_url: str, path: str | list[str] = "/swagger") -> None:
        super().__init__(
            path=path,
            favicon=f"<link rel='icon' type='image/png' href='{static_url}/favicon-32x32.png'>",
        )
        self.static_url = static_url
        self.spec_url = spec_url

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        spec_url = escape(self.spec_url)
        title = escape(str(openapi_schema["info"]["title"]))
        s = self.static_url
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  {self.favicon}
  <link rel="stylesheet" href="{s}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec_url}"></div>
  <script src="{s}/swagger-ui-bundle.js"></script>
  <script src="{s}/init.js"></script>
</body>
</html>
""".encode()


def openapi_config(
    public_prefix: str, version: str, status_by_kind: Mapping[ErrorCode, int]
) -> OpenAPIConfig:
    """OpenAPI 3.1 at <prefix>/schema, Swagger UI there and at /swagger, bearer auth declared,
    and every error code listed in the description."""
    return OpenAPIConfig(
        title="Breastscan API",
        version=version,
        description=DESCRIPTION + error_codes_markdown(status_by_kind),
        path="/schema",
        servers=[Server(url=public_prefix, description="This server")],
        render_plugins=[
            LocalSwaggerRenderPlugin(
                static_url=f"{public_prefix}/static/swagger-ui",
                spec_url=f"{public_prefix}/schema/openapi.json",
                path=["/", "/swagger"],
            ),
            JsonRenderPlugin(path="/openapi.json"),
        ],
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="The access_token from POST /api/auth/login.",
                )
            }
        ),
        tags=[
            Tag(name="auth", description="Accounts and access tokens"),
            Tag(name="predictions", description="Analyse images, store and review results"),
            Tag(name="statistics", description="Figures derived from stored predictions"),
            Tag(name="studies", description="Patient visits: their images, lesions and priors"),
            Tag(name="pacs", description="The clinic's PACS: search, import, send results"),
            Tag(name="model", description="The model card"),
            Tag(name="admin", description="Users and audit log (administrators only)"),
            Tag(name="system", description="Liveness and readiness"),
        ],
        use_handler_docstrings=True,
    )


def static_router() -> Router:
    return create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="static",
        include_in_schema=False,
        cache_control=None,
    )


# The failures every operation can answer with, beyond what its handler declares: documented
# once here so the OpenAPI document describes what the server really sends.
ERROR_BODY_REF = "#/components/schemas/ErrorBody"
_WHY = {
    "400": "A malformed body (not JSON, broken multipart, nested too deep)",
    "401": "Not signed in, a token that is invalid, expired or revoked, or wrong credentials",
    "403": "Signed in, but not allowed (administrators only)",
    "404": "No such record, or not yours",
    "409": "The change clashes with existing data (a taken email, the last administrator)",
    "413": "The body is over its size limit",
    "422": "A value the rules refuse (see `code` and `params`)",
    "429": "Too many failed sign-ins: retry after `Retry-After` seconds",
    "503": "The database, the model or the PACS is unavailable, or the server is busy: retry later",
}


def _errors_of(path: str, method: str, secured: bool) -> list[str]:
    found = ["422", "503"]
    if secured or path == "/auth/login":
        found.append("401")
    if path.startswith("/admin"):
        found.append("403")
        if method in {"post", "patch"}:
            found.append("409")
    if "{" in path:
        found.append("404")
    if method in {"post", "patch", "put"}:
        found += ["400", "413"]
    if path in {"/auth/login", "/auth/password"}:
        found.append("429")
    if path == "/pacs/import" or path.endswith("/send-to-pacs"):
        found += ["404", "409"]  # a study the PACS lacks; a study with no analysed PACS image
    return found


# The uploads that answer a refused batch with the batch body (every file's refusal).
BATCH_UPLOADS = frozenset({"/predictions", "/studies/images", "/studies/{study_id}/images"})


def document_errors(document: Any) -> None:
    """Add the error responses (ErrorBody) every operation may give to the OpenAPI document
    Litestar generated; a refused batch upload answers its status with the batch body."""
    error = Reference(ref=ERROR_BODY_REF)
    batch = Schema(any_of=[error, Reference(ref="#/components/schemas/BatchOut")])
    for path, item in (document.paths or {}).items():
        if path in {"/health"}:
            continue
        for method in ("get", "post", "patch", "put", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for status in _errors_of(path, method, bool(operation.security)):
                responses.setdefault(
                    status,
                    OpenAPIResponse(
                        description=_WHY[status],
                        content={"application/json": OpenAPIMediaType(schema=error)},
                    ),
                )
            if method == "post" and path in BATCH_UPLOADS:
                for status in ("413", "415", "422"):
                    responses[status] = OpenAPIResponse(
                        description=_WHY.get(status, "Every file refused: see results"),
                        content={"application/json": OpenAPIMediaType(schema=batch)},
                    )
            operation.responses = responses
