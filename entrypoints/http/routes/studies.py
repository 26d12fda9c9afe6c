"""/api/studies: open, search, read (with priors), correct studies, and upload images into them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from application.commands import (
    AddImagesToStudy,
    CreateStudy,
    DeleteStudy,
    GetStudy,
    ListStudies,
    PlaceStudyImage,
    StudyFilters,
    UpdateStudy,
    Upload,
)
from application.use_cases import (
    AddImagesToStudyUseCase,
    CreateStudyUseCase,
    DeleteStudyUseCase,
    GetStudyUseCase,
    ListStudiesUseCase,
    PlaceStudyImageUseCase,
    UpdateStudyUseCase,
)
from domain.bands import BandName
from domain.errors import InvalidInput
from domain.studies import ImagePosition
from domain.users import User
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.http.dto import (
    BatchOut,
    PageOut,
    PlacementIn,
    PositionIn,
    PredictionOut,
    StudyDetailOut,
    StudyIn,
    StudyOut,
    StudyPatch,
    StudySummaryOut,
)
from entrypoints.http.errors import ErrorBody
from entrypoints.http.routes.predictions import (
    ERRORS,
    FrameQ,
    FromQ,
    Limit,
    Offset,
    ReviewedQ,
    ToQ,
    UploadOperation,
    Uploads,
    at_frame,
    batch_response,
)

TAGS = ["studies"]
NOT_FOUND = {404: ResponseSpec(ErrorBody, description="No such study, or someone else's")}
Search = Annotated[str | None, QueryParameter(max_length=100, description="Contains (any case)")]
PositionsQ = Annotated[
    str | None,
    QueryParameter(
        max_length=1200,  # percent-encoded, still within the server's 16 KiB request head
        description='JSON list, one item per file in order, each null or {"laterality": "L", '
        '"clock": "10:30", "distance_cm": 2.5, "view": "radial", "lesion_number": 1}',
    ),
]
BandQ = Annotated[BandName | None, QueryParameter(description="Some image is in this band")]
_POSITIONS = msgspec.json.Decoder(list[PositionIn | None])


def _positions(raw: str | None) -> tuple[ImagePosition | None, ...]:
    if not raw:
        return ()
    try:
        items = _POSITIONS.decode(raw)
    except msgspec.DecodeError as error:
        raise InvalidInput(f"'positions' must be a JSON list of positions ({error}).") from None
    return tuple(None if item is None else item.position() for item in items)


@post("/studies", tags=TAGS, security=SECURITY, status_code=201, summary="Open a study")
async def create(
    request: Request[Any, Any, Any],
    data: JSONBody[StudyIn],
    user: CurrentUser,
    create_study: NamedDependency[CreateStudyUseCase],
) -> StudyOut:
    """A new study (one patient visit) under the clinic's patient reference (MRN)."""
    cmd = CreateStudy(actor=user, client=client_of(request), **msgspec.structs.asdict(data))
    return StudyOut.of(await create_study(cmd))


@get("/studies", tags=TAGS, security=SECURITY, summary="Search studies")
async def list_all(
    request: Request[Any, Any, Any],
    user: CurrentUser,
    list_studies: NamedDependency[ListStudiesUseCase],
    patient_ref: Search = None,
    accession: Search = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    band: BandQ = None,
    reviewed: ReviewedQ = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> PageOut[StudySummaryOut]:
    """Your studies (everyone's for administrators), newest visit first; the study-date range
    includes both ends; `band`: some image is in it; `reviewed`: all images (true) or not."""
    filters = StudyFilters.parse(
        patient_ref=patient_ref,
        accession=accession,
        date_from=date_from,
        date_to=date_to,
        band=band,
        reviewed=reviewed,
    )
    cmd = ListStudies(
        actor=user, filters=filters, offset=offset, limit=limit, client=client_of(request)
    )
    return PageOut.of(await list_studies(cmd), StudySummaryOut.of)


@get(
    "/studies/{study_id:uuid}",
    tags=TAGS,
    security=SECURITY,
    summary="Get a study with its priors",
    responses=NOT_FOUND,
)
async def get_one(
    request: Request[Any, Any, Any],
    study_id: FromPath[UUID],
    user: CurrentUser,
    get_study: NamedDependency[GetStudyUseCase],
) -> StudyDetailOut:
    """The study's images and lesion assessments, and the same patient's earlier studies."""
    cmd = GetStudy(actor=user, study_id=study_id, client=client_of(request))
    return StudyDetailOut.of_detail(await get_study(cmd))


@patch(
    "/studies/{study_id:uuid}",
    tags=TAGS,
    security=SECURITY,
    summary="Correct a study",
    responses=NOT_FOUND,
)
async def update(
    request: Request[Any, Any, Any],
    study_id: FromPath[UUID],
    data: JSONBody[StudyPatch],
    user: CurrentUser,
    update_study: NamedDependency[UpdateStudyUseCase],
) -> StudyOut:
    """Change the fields given; "" clears the accession number or the study UID."""
    fields = msgspec.structs.asdict(data)
    cmd = UpdateStudy(actor=user, study_id=study_id, client=client_of(request), **fields)
    return StudyOut.of(await update_study(cmd))


@delete(
    "/studies/{study_id:uuid}",
    tags=TAGS,
    security=SECURITY,
    status_code=204,
    summary="Delete a study",
    responses=NOT_FOUND,
)
async def remove(
    request: Request[Any, Any, Any],
    study_id: FromPath[UUID],
    user: CurrentUser,
    delete_study: NamedDependency[DeleteStudyUseCase],
) -> None:
    """Delete the study with the analyses of its images (and their files when unused)."""
    await delete_study(DeleteStudy(actor=user, study_id=study_id, client=client_of(request)))


@patch(
    "/studies/{study_id:uuid}/images/{prediction_id:uuid}",
    tags=TAGS,
    security=SECURITY,
    summary="Say where an image of a study was taken",
    responses={404: ResponseSpec(ErrorBody, description="No such study or image in it")},
)
async def place_image(
    request: Request[Any, Any, Any],
    study_id: FromPath[UUID],
    prediction_id: FromPath[UUID],
    data: JSONBody[PlacementIn],
    user: CurrentUser,
    place_study_image: NamedDependency[PlaceStudyImageUseCase],
) -> PredictionOut:
    """Set the image's side, clock position, distance, view and lesion number (null clears
    them): the lesion assessments follow; the model's output never changes."""
    cmd = PlaceStudyImage(
        actor=user,
        study_id=study_id,
        prediction_id=prediction_id,
        position=data.position.position() if data.position else None,
        client=client_of(request),
    )
    return PredictionOut.of(await place_study_image(cmd))


async def add_images(
    request: Request[Any, Any, Any],
    study_id: FromPath[UUID],
    user: CurrentUser,
    uploads: Uploads,
    add_images_to_study: NamedDependency[AddImagesToStudyUseCase],
    positions: PositionsQ = None,
    frame: FrameQ = None,
) -> Response[BatchOut]:
    """Analyse and store images into the study, each with its position (or, for DICOM, the
    side its header names). Statuses as for POST /api/predictions."""
    uploads = at_frame(uploads, frame)
    return await _add(request, user, study_id, uploads, positions, add_images_to_study)


async def file_dicom(
    request: Request[Any, Any, Any],
    user: CurrentUser,
    uploads: Uploads,
    add_images_to_study: NamedDependency[AddImagesToStudyUseCase],
    positions: PositionsQ = None,
    frame: FrameQ = None,
) -> Response[BatchOut]:
    """Analyse and store DICOM files, each into your study of its StudyInstanceUID (opened
    from its tags when new). Other files are refused: they need a study."""
    uploads = at_frame(uploads, frame)
    return await _add(request, user, None, uploads, positions, add_images_to_study)


async def _add(
    request: Request[Any, Any, Any],
    user: User,
    study_id: UUID | None,
    uploads: tuple[Upload, ...],
    positions: str | None,
    add_images_to_study: AddImagesToStudyUseCase,
) -> Response[BatchOut]:
    cmd = AddImagesToStudy(
        actor=user,
        study_id=study_id,
        uploads=uploads,
        positions=_positions(positions),
        client=client_of(request),
    )
    return batch_response(await add_images_to_study(cmd))


def upload_handlers(batch: int) -> list[HTTPRouteHandler]:
    """The two study upload routes, with the batch body limit (413 beyond it)."""
    responses = {
        207: ResponseSpec(BatchOut, description="Some stored, some refused: see results"),
        **ERRORS,
    }
    return [
        post(
            "/studies/{study_id:uuid}/images",
            summary="Analyse and store images into a study",
            tags=TAGS,
            security=SECURITY,
            status_code=201,
            responses={**responses, **NOT_FOUND},
            operation_class=UploadOperation,
            request_max_body_size=batch,
        )(add_images),
        post(
            "/studies/images",
            summary="Analyse and store DICOM files into their studies",
            tags=TAGS,
            security=SECURITY,
            status_code=201,
            responses=responses,
            operation_class=UploadOperation,
            request_max_body_size=batch,
        )(file_dicom),
    ]


HANDLERS = [create, list_all, get_one, update, remove, place_image]
