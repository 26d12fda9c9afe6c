"""`breastscan` command line: serve, migrate, users create, predict, model info.

Every command drives the same use cases as the API; domain errors become exit codes in
one place (EXIT_CODES) so scripts can tell a bad image from a missing model.

The composition root and the adapters are imported by the commands that use them, never at
module level: the parent of a multi-worker `serve --api-only` only supervises its workers and
would otherwise hold the whole service in memory for nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from uuid import UUID

from application.commands import DescribeModel, Predict, RegisterUser, SweepImages, Upload
from domain.bands import BORDERLINE_WORDING, band_for
from domain.errors import DomainError, ErrorCode, InvalidInput, ModelUnavailable
from domain.users import Role, User
from entrypoints.settings import PREFIX, Settings, SettingsError

if TYPE_CHECKING:
    from entrypoints.container import Container

EXIT_OK = 0
EXIT_FAILURE = 1  # unexpected error
EXIT_USAGE = 2  # argparse's own code for bad arguments
EXIT_CONFIG = 3  # invalid BREASTSCAN_ settings or the service cannot start (SettingsError)
EXIT_MISSING_FILE = 15  # a file named on the command line does not exist
# The exit status of each kind of domain error (an error's kind is its class's code).
EXIT_BY_KIND: dict[ErrorCode, int] = {
    ErrorCode.IMAGE_TOO_LARGE: 10,
    ErrorCode.UNSUPPORTED_IMAGE_FORMAT: 11,
    ErrorCode.INVALID_IMAGE: 12,
    ErrorCode.INVALID_INPUT: 13,
    ErrorCode.CONFLICT: 14,
    ErrorCode.NOT_FOUND: EXIT_MISSING_FILE,
    ErrorCode.FORBIDDEN: 16,
    ErrorCode.INVALID_CREDENTIALS: 17,
    ErrorCode.NOT_AUTHENTICATED: 17,
    ErrorCode.TOO_MANY_ATTEMPTS: 18,
    ErrorCode.MODEL_UNAVAILABLE: 20,
    ErrorCode.DATABASE_UNAVAILABLE: 21,
    ErrorCode.PACS_UNAVAILABLE: 22,
}

# The local operator running `predict`: decisions are printed, never stored or audited.
CLI_OPERATOR = User(
    id=UUID(int=0),
    email="operator@localhost",
    password_hash="",
    role=Role.CLINICIAN,
    is_active=True,
    created_at=datetime(2000, 1, 1, tzinfo=UTC),
    display_name="command line",
)


def exit_code(error: BaseException) -> int:
    if isinstance(error, DomainError):
        return EXIT_BY_KIND.get(error.kind, EXIT_FAILURE)
    if isinstance(error, SettingsError):  # StartupError is one
        return EXIT_CONFIG
    if isinstance(error, FileNotFoundError):
        return EXIT_MISSING_FILE
    return EXIT_FAILURE


def _build(settings: Settings) -> Container:
    from entrypoints.container import build_container

    return build_container(settings)


def _message(error: BaseException) -> str:
    return error.message if isinstance(error, DomainError) else str(error)


def _refusal(error: DomainError | OSError) -> dict[str, object]:
    """Why a file was not analysed: kind and code (as in the API's error bodies), detail."""
    if isinstance(error, DomainError):
        kind, code = error.kind.value, error.code.value
    else:
        kind = code = "file_not_found" if isinstance(error, FileNotFoundError) else "os_error"
    return {"error": kind, "code": code, "detail": _message(error)}


# --- commands ---------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the web UI at / and the API at /api in one process, or the API alone (--api-only)."""
    import uvicorn

    if not settings.model_path.is_file():
        from entrypoints.container import check_model_file

        check_model_file(settings)  # raises StartupError, saying how to get the model
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if settings.resolved_database_url.startswith("sqlite"):
        # The embedded database belongs to this machine alone: bring it to the latest schema
        # so one command starts the product. Shared databases are migrated by `migrate`.
        # A multi-worker parent migrates in a short-lived child, keeping the adapters out of it.
        if workers > 1:
            migrated = subprocess.run([sys.executable, "-m", "entrypoints.cli", "migrate"])
            if migrated.returncode:
                return migrated.returncode
        else:
            asyncio.run(_run(migrate_quietly, args, _build(settings)))
    if not args.api_only:
        if workers > 1:
            print("Several workers need --api-only: the UI is one worker.", file=sys.stderr)
            return EXIT_USAGE
        from entrypoints.web.server import serve

        print(f"Breastscan on http://{host}:{port}/ (API at /api)", file=sys.stderr)
        serve(settings, host=host, port=port)
        return EXIT_OK
    print(f"Breastscan API on http://{host}:{port}/api (docs at /api/schema)", file=sys.stderr)
    # Worker processes read their settings from the environment: tell them how many share
    # the machine, so each gives ONNX Runtime its share of the cores.
    os.environ[f"{PREFIX}WORKERS"] = str(workers)
    uvicorn.run(
        "entrypoints.cli:api_asgi_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        server_header=False,
        **settings.proxy_options,
        # One log format: the app's JSON handler writes uvicorn's lines too, and the request
        # line comes from the app (entrypoints/http/logs.py), not from uvicorn's access log.
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    return EXIT_OK


def api_asgi_app() -> Any:
    """uvicorn factory for the API-only server (each worker builds its own container)."""
    from entrypoints.http import InferenceRoute, create_api_asgi, create_app, create_inference_app

    container = _build(Settings.from_env())
    return InferenceRoute(create_api_asgi(create_app(container)), create_inference_app(container))


async def cmd_migrate(
    _: argparse.Namespace, container: Container, *, say_when_current: bool = True
) -> int:
    from adapters.persistence.migrate import current_revision, upgrade_to_head

    engine = container.engine()
    before = await current_revision(engine)
    await upgrade_to_head(engine)
    after = await current_revision(engine)
    if say_when_current or after != before:
        print(f"Database migrated to head (revision {after}).")
    return EXIT_OK


async def cmd_sweep_images(args: argparse.Namespace, container: Container) -> int:
    grace = max(0, args.grace_minutes) * 60
    deleted = await container.sweep_images()(SweepImages(grace_seconds=grace, client="cli"))
    print(f"Deleted {deleted} unreferenced image file(s).")
    return EXIT_OK


async def cmd_dicom_listen(args: argparse.Namespace, container: Container) -> int:
    from entrypoints.dicom_listener import serve

    settings = container.settings()
    if not settings.dicom_service_account:
        raise SettingsError("BREASTSCAN_DICOM_SERVICE_ACCOUNT must name the account to file under")
    await serve(container.receive_pacs_images(), settings, args.host)
    return 0


async def migrate_quietly(args: argparse.Namespace, container: Container) -> int:
    """`serve`'s own migration of the embedded database: silent when there was nothing to do
    (`make run` has just run `migrate`)."""
    return await cmd_migrate(args, container, say_when_current=False)


def _read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise InvalidInput("The passwords do not match.", ErrorCode.PASSWORDS_DIFFER)
    return first


async def cmd_users_create(args: argparse.Namespace, container: Container) -> int:
    password = _read_password(args, sys.stdin)
    user = await container.register_user()(
        RegisterUser(
            email=args.email,
            password=password,
            display_name=args.name or "",
            role=Role.ADMIN if args.admin else Role.CLINICIAN,
            trusted=True,
            client="cli",
        )
    )
    assert user is not None, "the trusted CLI is told when an email is taken"
    print(f"Created {user.role.value} {user.email} (id {user.id}).")
    return EXIT_OK


async def cmd_predict(args: argparse.Namespace, container: Container) -> int:
    predict = container.predict()
    results: list[dict[str, object]] = []
    worst = EXIT_OK
    for name in args.files:
        path = Path(name)
        try:
            data = await asyncio.to_thread(path.read_bytes)
            analysis = await predict(
                Predict(
                    actor=CLI_OPERATOR,
                    upload=Upload(filename=path.name, data=data, frame=args.frame),
                )
            )
        except (DomainError, OSError) as error:
            if isinstance(error, ModelUnavailable):
                raise
            code = exit_code(error)
            worst = worst or code
            results.append({"file": name, **_refusal(error)})
            continue
        a = analysis.assessment
        results.append(
            {
                "file": name,
                "probability": round(a.p_malignant, 6),
                "label": a.label.value,
                "confidence": round(a.confidence, 6),
                "threshold": a.threshold,
                "model_version": a.model_version,
                "band": a.likelihood.band.value,
                "band_wording": band_for(a.p_malignant, a.bands).wording,
                "borderline": a.likelihood.borderline,
                # null when the model has no lesion output; box and outline in image pixels
                "lesion": None if analysis.lesion is None else dataclasses.asdict(analysis.lesion),
                # DICOM: the frame analysed (0-based) out of frame_count; null for PNG/JPEG
                "frame_index": analysis.frame_index,
                "frame_count": analysis.frame_count,
            }
        )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "error" in r:
                print(f"{r['file']}: ERROR {r['error']}: {r['detail']}")
            else:
                borderline = f"; {BORDERLINE_WORDING.lower()}" if r["borderline"] else ""
                print(
                    f"{r['file']}: {r['label']}, {r['band_wording']}{borderline} "
                    f"(P(malignant)={r['probability']:.3f}, "
                    f"threshold {r['threshold']}, model {r['model_version']})"
                    f"{_lesion_words(r['lesion'])}{_frame_words(r)}"
                )
    return worst


def _frame_words(result: dict[str, object]) -> str:
    count = result["frame_count"]
    if not isinstance(count, int) or count < 2:
        return ""
    return f"; frame {result['frame_index']} of {count} (0-based)"


def _lesion_words(lesion: object) -> str:
    if not isinstance(lesion, dict):
        return ""
    if not lesion["found"]:
        return "; no lesion found"
    box = lesion["bbox"]
    mm2 = "" if lesion["area_mm2"] is None else f", {lesion['area_mm2']:.1f} mm²"
    return (
        f"; lesion {lesion['area_fraction'] * 100:.1f} % of the analysed area{mm2}, "
        f"box {box['width']}x{box['height']} at ({box['x']}, {box['y']})"
    )


async def cmd_model_info(args: argparse.Namespace, container: Container) -> int:
    info = await container.describe_model()(DescribeModel())
    card = {
        "version": info.version,
        "threshold": info.threshold,
        "positive_class": info.positive_class,
        "input_size": info.input_size,
        "providers": list(info.providers),
        "has_lesion_output": info.has_lesion_output,
        "lesion_threshold": info.lesion_threshold,
        "metadata": dict(info.metadata),
    }
    if args.json:
        print(json.dumps(card, indent=2))
    else:
        for key in (
            "version",
            "threshold",
            "positive_class",
            "input_size",
            "providers",
            "has_lesion_output",
            "lesion_threshold",
        ):
            print(f"{key}: {card[key]}")
        for key, value in sorted(info.metadata.items()):
            print(f"metadata.{key}: {value}")
    return EXIT_OK


# --- plumbing ---------------------------------------------------------------------------


def _frame_number(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError("a frame is a whole number from 0")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="breastscan",
        description="Breast ultrasound triage: a decision aid, not a diagnosis. "
        "Configuration comes from BREASTSCAN_* environment variables.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--api-only", action="store_true", help="serve the HTTP API alone")
    serve.add_argument("--host", help="bind address (default BREASTSCAN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default BREASTSCAN_PORT or 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (API only)")
    serve.set_defaults(sync_handler=cmd_serve)

    migrate = sub.add_parser("migrate", help="upgrade the database to the latest schema")
    migrate.set_defaults(handler=cmd_migrate)

    users = sub.add_parser("users", help="manage accounts").add_subparsers(
        dest="users_command", required=True, metavar="ACTION"
    )
    create = users.add_parser("create", help="create an account (prompts for the password)")
    create.add_argument("email")
    create.add_argument("--admin", action="store_true", help="create an administrator")
    create.add_argument("--name", help="display name")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=cmd_users_create)

    predict = sub.add_parser("predict", help="analyse image files offline (nothing is stored)")
    predict.add_argument("files", nargs="+", metavar="FILE")
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.add_argument(
        "--frame",
        type=_frame_number,
        metavar="N",
        help="multi-frame DICOM: analyse frame N (0-based) of every file (default: the first)",
    )
    predict.set_defaults(handler=cmd_predict)

    model = sub.add_parser("model", help="the model").add_subparsers(
        dest="model_command", required=True, metavar="ACTION"
    )
    info = model.add_parser("info", help="print the model card")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=cmd_model_info)

    maintenance = sub.add_parser("maintenance", help="housekeeping").add_subparsers(
        dest="maintenance_command", required=True, metavar="ACTION"
    )
    sweep = maintenance.add_parser(
        "sweep-images", help="delete stored images no prediction refers to"
    )
    sweep.add_argument(
        "--grace-minutes",
        type=int,
        default=60,
        help="keep images written in the last N minutes (default 60)",
    )
    sweep.set_defaults(handler=cmd_sweep_images)

    listen = sub.add_parser(
        "dicom-listen",
        help="receive images by DICOM C-STORE and file them into studies "
        "(BREASTSCAN_DICOM_AE_TITLE, _PORT, _ACCEPTED_AETS, _SERVICE_ACCOUNT)",
    )
    listen.add_argument("--host", default="0.0.0.0", help="bind address (default 0.0.0.0)")  # noqa: S104
    listen.set_defaults(handler=cmd_dicom_listen)
    return p


async def _run(
    handler: Callable[[argparse.Namespace, Container], Awaitable[int]],
    args: argparse.Namespace,
    container: Container,
) -> int:
    from entrypoints.container import shutdown

    try:
        return await handler(args, container)
    finally:
        await shutdown(container)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(message)s")
        if settings.log_level != "debug":  # Alembic's set-up chatter on every command
            logging.getLogger("alembic").setLevel(logging.WARNING)
        if getattr(args, "sync_handler", None):
            return int(args.sync_handler(args, settings))
        return asyncio.run(_run(args.handler, args, _build(settings)))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        code = exit_code(error)
        if code == EXIT_FAILURE and not isinstance(error, DomainError):
            logging.getLogger("breastscan.cli").exception("unexpected error")
        else:
            print(f"breastscan: {_message(error)}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
