"""/api/predict and /api/predictions: analyse, store, list, export, view, review, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, JSONBody, QueryParameter

from application.commands import (
    DeletePrediction,
    ExportPredictions,
    GetLesionOverlay,
    GetPrediction,
    GetPredictionDicom,
    GetPredictionImage,
    GetStatistics,
    ListPredictions,
    Predict,
    PredictAndStore,
    PredictionFilters,
    ReviewPrediction,
    StoredOutcome,
    Upload,
)
from application.use_cases import (
    DeletePredictionUseCase,
    ExportPredictionsUseCase,
    GetLesionOverlayUseCase,
    GetPredictionDicomUseCase,
    GetPredictionImageUseCase,
    GetPredictionUseCase,
    GetStatisticsUseCase,
    ListPredictionsUseCase,
    PredictAndStoreUseCase,
    PredictUseCase,
    ReviewPredictionUseCase,
)
from domain.bands import BandName
from domain.errors import ErrorCode, InvalidInput
from domain.predictions import Label
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.http.dto import (
    AnalysisOut,
    BatchOut,
    PageOut,
    PredictionOut,
    ReviewIn,
    StatisticsOut,
    outcome_of,
)
from entrypoints.http.errors import ErrorBody

TAGS = ["predictions"]
UPLOAD_BODY = RequestBody(
    required=True,
    description=(
        "PNG, JPEG or DICOM (Part 10) images, each in a part named `file` (any part name and "
        "content type is accepted: the bytes decide)."
    ),
    content={
        "multipart/form-data": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "file": Schema(
                        type=OpenAPIType.ARRAY,
                        items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                    )
                },
                required=["file"],
            )
        )
    },
)


@dataclass
class UploadOperation(Operation):
    """OpenAPI operation of the upload endpoints, whose multipart body is read by hand."""

    def __post_init__(self) -> None:
        self.request_body = UPLOAD_BODY


ERRORS = {
    413: ResponseSpec(ErrorBody, description="Body or image over the size/pixel limits"),
    415: ResponseSpec(
        ErrorBody,
        description="Not a PNG, JPEG or DICOM (checked by content), or a DICOM "
        "compression or colour model the server cannot read",
    ),
    422: ResponseSpec(ErrorBody, description="Not a decodable image, or invalid input"),
}


Uploads = NamedDependency[tuple[Upload, ...]]  # the multipart body's files (http/uploads.py)
FrameQ = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        le=2**31 - 1,
        description="Multi-frame DICOM: the frame to analyse (0-based), the same in every file "
        "of the request; default the first. A still image has frame 0 only (422 otherwise).",
    ),
]


def at_frame(uploads: tuple[Upload, ...], frame: int | None) -> tuple[Upload, ...]:
    return tuple(Upload(u.filename, u.data, frame) for u in uploads)


# Paging, bounded to what every database's OFFSET/LIMIT holds (422 beyond).
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
# Query parameters shared by listing, export and statistics.
LabelQ = Annotated[Label | None, QueryParameter(description="malignant | benign")]
FromQ = Annotated[
    str | None, QueryParameter(name="from", description="Created at or after (ISO date/date-time)")
]
ToQ = Annotated[
    str | None,
    QueryParameter(name="to", description="Created before; a bare date includes that day"),
]
ReviewedQ = Annotated[bool | None, QueryParameter(description="Only reviewed (true) or unreviewed")]
SearchQ = Annotated[
    str | None, QueryParameter(description="Filename contains (case-insensitive)", max_length=100)
]
BandsQ = Annotated[
    list[BandName] | None,
    QueryParameter(description="In one of these likelihood bands (repeat for several)"),
]


def prediction_filters(
    label: LabelQ = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    reviewed: ReviewedQ = None,
    q: SearchQ = None,
    band: BandsQ = None,
) -> PredictionFilters:
    """Litestar dependency `filters`: the query parameters shared by listing, export and
    statistics, as the use cases' filters."""
    return PredictionFilters.parse(
        label=label,
        date_from=date_from,
        date_to=date_to,
        reviewed=reviewed,
        search=q,
        bands=band or (),
    )


Filters = NamedDependency[PredictionFilters]  # handlers take `filters: Filters`


async def predict_one(
    request: Request[Any, Any, Any],
    user: CurrentUser,
    uploads: Uploads,
    predict: NamedDependency[PredictUseCase],
    frame: FrameQ = None,
) -> AnalysisOut:
    """Analyse one image and return the result with its CAM grid; nothing is stored. For a
    DICOM file, `frame_index` says which frame was analysed out of `frame_count`."""
    if len(uploads) != 1:
        raise InvalidInput(
            "Send exactly one image in a part named 'file'.", ErrorCode.ONE_IMAGE_EXPECTED
        )
    (upload,) = at_frame(uploads, frame)
    analysis = await predict(Predict(actor=user, upload=upload, client=client_of(request)))
    return AnalysisOut.of(analysis)


async def create_predictions(
    request: Request[Any, Any, Any],
    user: CurrentUser,
    uploads: Uploads,
    predict_and_store: NamedDependency[PredictAndStoreUseCase],
    frame: FrameQ = None,
) -> Response[BatchOut]:
    """Analyse and store one or many images. 201 when all are stored; 207 when some are
    refused (each result says why); when none is stored, the first refusal's status
    (413/415/422) with every result listed. A DICOM file's de-identified copy is kept too
    (`dicom_url`)."""
    cmd = PredictAndStore(actor=user, uploads=at_frame(uploads, frame), client=client_of(request))
    return batch_response(await predict_and_store(cmd))


def batch_response(outcomes: list[StoredOutcome]) -> Response[BatchOut]:
    """201 when every file is stored, 207 when some are, else the first refusal's status."""
    results = [outcome_of(o) for o in outcomes]
    stored = sum(r.stored for r in results)
    body = BatchOut(stored=stored, failed=len(results) - stored, results=results)
    if stored == len(results):
        status = 201
    elif stored:
        status = 207
    else:
        status = next(r.error.status_code for r in results if r.error is not None)
    return Response(body, status_code=status)


@get("/predictions", tags=TAGS, security=SECURITY, summary="List stored predictions")
async def list_all(
    user: CurrentUser,
    list_predictions: NamedDependency[ListPredictionsUseCase],
    filters: Filters,
    offset: Offset = 0,
    limit: Limit = 20,
) -> PageOut[PredictionOut]:
    """Stored predictions, newest first: your own, or everyone's for administrators."""
    cmd = ListPredictions(actor=user, filters=filters, offset=offset, limit=limit)
    return PageOut.of(await list_predictions(cmd), PredictionOut.of)


@get(
    "/predictions/export.csv",
    tags=TAGS,
    security=SECURITY,
    media_type="text/csv",
    summary="Export predictions as CSV",
)
async def export_csv(
    request: Request[Any, Any, Any],
    user: CurrentUser,
    export_predictions: NamedDependency[ExportPredictionsUseCase],
    filters: Filters,
) -> Response[str]:
    """Every prediction the filters select, as CSV (UTF-8, one header row)."""
    csv = await export_predictions(
        ExportPredictions(actor=user, filters=filters, client=client_of(request))
    )
    name = f"breastscan-predictions-{date.today().isoformat()}.csv"
    return Response(
        csv,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@get(
    "/predictions/{prediction_id:uuid}",
    tags=TAGS,
    security=SECURITY,
    summary="Get a stored prediction",
)
async def get_one(
    request: Request[Any, Any, Any],
    prediction_id: FromPath[UUID],
    user: CurrentUser,
    get_prediction: NamedDependency[GetPredictionUseCase],
) -> PredictionOut:
    """One stored prediction (404 when absent or someone else's)."""
    cmd = GetPrediction(actor=user, prediction_id=prediction_id, client=client_of(request))
    return PredictionOut.of(await get_prediction(cmd))


def _png(data: bytes) -> Response[bytes]:
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


def _stored(data: bytes) -> Response[bytes]:
    """The stored copy: a JPEG upload is kept as it came (metadata stripped), anything else PNG."""
    media_type = "image/jpeg" if data.startswith(b"\xff\xd8") else "image/png"
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, no-store"})


@get(
    "/predictions/{prediction_id:uuid}/image",
    summary="The stored image (image/jpeg or image/png)",
    tags=TAGS,
    security=SECURITY,
    media_type="image/*",
)
async def get_image(
    prediction_id: FromPath[UUID],
    user: CurrentUser,
    get_prediction_image: NamedDependency[GetPredictionImageUseCase],
) -> Response[bytes]:
    """The stored image, metadata stripped: the JPEG as uploaded when it needed no rotation or
    scaling, otherwise a PNG (the Content-Type says which)."""
    cmd = GetPredictionImage(actor=user, prediction_id=prediction_id)
    return _stored(await get_prediction_image(cmd))


@get(
    "/predictions/{prediction_id:uuid}/dicom",
    summary="The de-identified DICOM source",
    tags=TAGS,
    security=SECURITY,
    media_type="application/dicom",
    responses={404: ResponseSpec(ErrorBody, description="No such analysis, or not from DICOM")},
)
async def get_dicom(
    request: Request[Any, Any, Any],
    prediction_id: FromPath[UUID],
    user: CurrentUser,
    get_prediction_dicom: NamedDependency[GetPredictionDicomUseCase],
) -> Response[bytes]:
    """The DICOM file the analysis was made from, as stored: de-identified under the PS3.15
    basic profile with the Retain UIDs option (PatientIdentityRemoved YES). 404 when the
    analysis came from a PNG or JPEG."""
    cmd = GetPredictionDicom(actor=user, prediction_id=prediction_id, client=client_of(request))
    return Response(
        await get_prediction_dicom(cmd),
        media_type="application/dicom",
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{prediction_id}.dcm"',
        },
    )


@get(
    "/predictions/{prediction_id:uuid}/heatmap",
    summary="The heatmap overlay",
    tags=TAGS,
    security=SECURITY,
    media_type="image/png",
)
async def get_heatmap(
    prediction_id: FromPath[UUID],
    user: CurrentUser,
    get_prediction_image: NamedDependency[GetPredictionImageUseCase],
    opacity: Annotated[float, QueryParameter(ge=0.0, le=1.0, description="Overlay opacity")] = 0.45,
) -> Response[bytes]:
    """The stored image with the class-activation heatmap overlaid, as PNG."""
    cmd = GetPredictionImage(actor=user, prediction_id=prediction_id, heatmap=True, opacity=opacity)
    return _png(await get_prediction_image(cmd))


@get(
    "/predictions/{prediction_id:uuid}/lesion",
    summary="The lesion outline overlay",
    tags=TAGS,
    security=SECURITY,
    media_type="image/png",
    responses={404: ResponseSpec(ErrorBody, description="No such analysis, or no lesion found")},
)
async def get_lesion(
    prediction_id: FromPath[UUID],
    user: CurrentUser,
    get_lesion_overlay: NamedDependency[GetLesionOverlayUseCase],
) -> Response[bytes]:
    """The stored image with the outline of the lesion the model found, as PNG (404 when the
    model found none or had no lesion output)."""
    cmd = GetLesionOverlay(actor=user, prediction_id=prediction_id)
    return _png(await get_lesion_overlay(cmd))


@patch(
    "/predictions/{prediction_id:uuid}/review",
    tags=TAGS,
    security=SECURITY,
    summary="Review a prediction",
)
async def review(
    request: Request[Any, Any, Any],
    prediction_id: FromPath[UUID],
    data: JSONBody[ReviewIn],
    user: CurrentUser,
    review_prediction: NamedDependency[ReviewPredictionUseCase],
) -> PredictionOut:
    """Record the clinician's BI-RADS, agree/disagree and note; the model's result never
    changes."""
    cmd = ReviewPrediction(
        actor=user,
        prediction_id=prediction_id,
        verdict=data.verdict,
        note=data.note,
        birads=data.birads,
        client=client_of(request),
    )
    return PredictionOut.of(await review_prediction(cmd))


@delete(
    "/predictions/{prediction_id:uuid}",
    tags=TAGS,
    security=SECURITY,
    status_code=204,
    summary="Delete a prediction",
)
async def remove(
    request: Request[Any, Any, Any],
    prediction_id: FromPath[UUID],
    user: CurrentUser,
    delete_prediction: NamedDependency[DeletePredictionUseCase],
) -> None:
    """Delete a stored prediction (and its image when nothing else refers to it)."""
    cmd = DeletePrediction(actor=user, prediction_id=prediction_id, client=client_of(request))
    await delete_prediction(cmd)


@get("/stats", tags=["statistics"], security=SECURITY, summary="Statistics")
async def statistics(
    user: CurrentUser,
    get_statistics: NamedDependency[GetStatisticsUseCase],
    filters: Filters,
) -> StatisticsOut:
    """Totals, label shares, per-day counts, probability histogram and review agreement."""
    return StatisticsOut.of(await get_statistics(GetStatistics(actor=user, filters=filters)))


def upload_handlers(one_image: int, batch: int) -> list[HTTPRouteHandler]:
    """The two upload routes, each with its own body limit (413 beyond it)."""
    return [
        post(
            "/predict",
            summary="Analyse one image (nothing stored)",
            tags=TAGS,
            security=SECURITY,
            status_code=200,
            responses=ERRORS,
            operation_class=UploadOperation,
            request_max_body_size=one_image,
        )(predict_one),
        post(
            "/predictions",
            summary="Analyse and store images",
            tags=TAGS,
            security=SECURITY,
            status_code=201,
            responses={
                207: ResponseSpec(BatchOut, description="Some stored, some refused: see results"),
                **ERRORS,
            },
            operation_class=UploadOperation,
            request_max_body_size=batch,
        )(create_predictions),
    ]


HANDLERS = [
    list_all,
    export_csv,
    get_one,
    get_image,
    get_dicom,
    get_heatmap,
    get_lesion,
    review,
    remove,
    statistics,
]
