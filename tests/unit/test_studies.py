"""Studies on fakes: creating, filing images (DICOM tags included), listing, priors, updating."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

import pytest

from application.commands import (
    AddImagesToStudy,
    CreateStudy,
    DeleteStudy,
    ExportPredictions,
    GetStudy,
    ListStudies,
    PlaceStudyImage,
    PredictAndStore,
    StoredOutcome,
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
    PredictAndStoreUseCase,
    UpdateStudyUseCase,
)
from application.use_cases.export_predictions import CSV_HEADER
from domain.bands import BandName
from domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from domain.predictions import Prediction
from domain.studies import (
    ImagePosition,
    Laterality,
    LesionAssessment,
    Study,
    View,
    assess_lesions,
    format_clock,
    view_from_dicom,
)
from domain.users import Role, User
from tests.contracts.prediction_repository_contract import make_prediction
from tests.contracts.user_repository_contract import T0, make_user
from tests.fakes import FakeClock, fake_image
from tests.study_fakes import UID_A, UID_B, DicomAwareDecoder, fake_dicom
from tests.unit.conftest import App

pytestmark = pytest.mark.unit


class Studies:
    """The study use cases on the app's fakes."""

    def __init__(self, app: App) -> None:
        store = PredictAndStoreUseCase(
            app.uow, DicomAwareDecoder(), app.classifier, app.images, app.clock
        )
        self.create = CreateStudyUseCase(app.uow, app.clock)
        self.update = UpdateStudyUseCase(app.uow, app.clock)
        self.list = ListStudiesUseCase(app.uow, app.clock)
        self.get = GetStudyUseCase(app.uow, app.clock)
        self.add = AddImagesToStudyUseCase(app.uow, store, app.clock)
        self.delete = DeleteStudyUseCase(app.uow, app.images, app.clock)
        self.place = PlaceStudyImageUseCase(app.uow, app.clock)


@pytest.fixture
def studies(app: App) -> Studies:
    return Studies(app)


def png(seed: str, level: int = 128) -> Upload:
    return Upload(f"{seed}.png", fake_image(seed, level))


def left(lesion: int = 1, view: View = View.RADIAL) -> ImagePosition:
    return ImagePosition(Laterality.LEFT, lesion_number=lesion, view=view)


def stored(outcomes: list[StoredOutcome]) -> list[Prediction]:
    return [o.prediction for o in outcomes if o.prediction is not None]


# --- domain -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "hours"),
    [
        ("10", 10.0),
        ("10:30", 10.5),
        ("10.5", 10.5),
        ("10h30", 10.5),
        (" 12:30 ", 12.5),
        ("1:00", 1),
    ],
)
def test_clock_positions_are_read_in_half_hours(typed: str, hours: float) -> None:
    position = ImagePosition.parse("L", clock=typed)
    assert position.clock_position == hours
    assert position.clock_label == format_clock(hours)


@pytest.mark.parametrize("typed", ["0", "13", "10:15", "ten", "10:30:00", "25:00"])
def test_impossible_clock_positions_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        ImagePosition.parse("R", clock=typed)
    assert refused.value.code is ErrorCode.CLOCK_POSITION_INVALID


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"laterality": "X"}, ErrorCode.LATERALITY_INVALID),
        ({"laterality": ""}, ErrorCode.LATERALITY_INVALID),
        ({"laterality": "Rubbish"}, ErrorCode.LATERALITY_INVALID),
        ({"laterality": "L", "view": "oblique"}, ErrorCode.VIEW_INVALID),
        ({"laterality": "L", "lesion_number": 0}, ErrorCode.LESION_NUMBER_INVALID),
        ({"laterality": "L", "distance_cm": -0.5}, ErrorCode.DISTANCE_INVALID),
        ({"laterality": "L", "distance_cm": float("nan")}, ErrorCode.DISTANCE_INVALID),
    ],
)
def test_bad_positions_are_refused_with_their_code(fields: dict, code: ErrorCode) -> None:  # type: ignore[type-arg]
    laterality = fields.pop("laterality")
    with pytest.raises(InvalidInput) as refused:
        ImagePosition.parse(laterality, **fields)
    assert refused.value.code is code


def test_a_position_reads_side_and_view_words() -> None:
    position = ImagePosition.parse("left", view="Antiradial", distance_cm=2.5, lesion_number=3)
    assert position == ImagePosition(Laterality.LEFT, 3, View.ANTIRADIAL, None, 2.5)
    assert view_from_dicom("Breast L ANTI-RADIAL") is View.ANTIRADIAL
    assert view_from_dicom("RADIAL") is View.RADIAL
    assert view_from_dicom("Trans") is View.TRANSVERSE
    assert view_from_dicom("sagittal") is View.LONGITUDINAL
    assert view_from_dicom(None) is View.OTHER
    assert view_from_dicom("Radiology breast US") is View.OTHER
    assert view_from_dicom("transducer L12-5") is View.OTHER
    assert view_from_dicom("LONGIT") is View.LONGITUDINAL


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"patient_ref": "   "}, ErrorCode.PATIENT_REF_INVALID),
        ({"patient_ref": "M" * 65}, ErrorCode.PATIENT_REF_INVALID),
        ({"patient_ref": "MRN\x00"}, ErrorCode.TEXT_INVALID_CHARACTERS),
        ({"accession_number": "A" * 17}, ErrorCode.ACCESSION_INVALID),
        ({"study_instance_uid": "1.2.abc"}, ErrorCode.STUDY_UID_INVALID),
        ({"study_instance_uid": "1.02.3"}, ErrorCode.STUDY_UID_INVALID),
        ({"study_instance_uid": "1." + "2" * 63}, ErrorCode.STUDY_UID_INVALID),
    ],
)
def test_study_fields_are_checked(fields: dict, code: ErrorCode) -> None:  # type: ignore[type-arg]
    values = {
        "id": uuid4(),
        "owner_id": uuid4(),
        "patient_ref": "MRN-1",
        "study_date": date(2026, 1, 1),
        "created_at": FakeClock().now(),
        **fields,
    }
    with pytest.raises(InvalidInput) as refused:
        Study(**values)
    assert refused.value.code is code


def _prediction(p: float, position: ImagePosition | None, minutes: int = 0) -> Prediction:
    made = make_prediction(make_user(), p_malignant=p, created_at=T0 + timedelta(minutes=minutes))
    return replace(made, position=position)


def test_the_views_of_one_lesion_combine_by_their_most_suspicious_view() -> None:
    radial = _prediction(0.2, left(1, View.RADIAL))
    antiradial = _prediction(0.7, left(1, View.ANTIRADIAL), minutes=1)
    other_lesion = _prediction(0.9, left(2))
    right = _prediction(0.1, ImagePosition(Laterality.RIGHT))
    unplaced = _prediction(0.99, None)
    lesions = assess_lesions([radial, antiradial, other_lesion, right, unplaced])
    assert [(a.laterality, a.lesion_number) for a in lesions] == [
        (Laterality.RIGHT, 1),
        (Laterality.LEFT, 1),
        (Laterality.LEFT, 2),
    ]
    combined = lesions[1]
    assert combined.views == (radial, antiradial)
    assert combined.driving == antiradial
    assert combined.p_malignant == pytest.approx(0.7)
    assert combined.label is antiradial.label
    assert combined.threshold == antiradial.threshold
    tie = LesionAssessment(Laterality.LEFT, 1, (replace(antiradial, p_malignant=0.2), radial))
    assert tie.driving == radial  # the earliest of equals


# --- CreateStudy / UpdateStudy ------------------------------------------------------------


async def test_create_study_defaults_to_today_and_is_audited(app: App, studies: Studies) -> None:
    user = await app.user()
    study = await studies.create(CreateStudy(actor=user, patient_ref=" MRN-1 ", client="10.0.0.1"))
    assert study.patient_ref == "MRN-1"
    assert study.study_date == app.clock.now().date()
    assert app.db.studies == {study.id: study}
    [entry] = app.db.audit
    assert (entry.action, entry.target_type, entry.target_id) == (
        "study.created",
        "study",
        str(study.id),
    )
    assert "MRN" not in entry.detail  # the patient reference stays out of the audit log


async def test_a_study_uid_is_unique_per_owner(app: App, studies: Studies) -> None:
    user, other = await app.user(), await app.user()
    await studies.create(CreateStudy(actor=user, patient_ref="MRN-1", study_instance_uid=UID_A))
    await studies.create(CreateStudy(actor=other, patient_ref="MRN-1", study_instance_uid=UID_A))
    with pytest.raises(Conflict) as clash:
        await studies.create(CreateStudy(actor=user, patient_ref="MRN-2", study_instance_uid=UID_A))
    assert clash.value.code is ErrorCode.STUDY_UID_TAKEN


async def test_update_study_changes_fields_and_names_them_in_the_audit(
    app: App, studies: Studies
) -> None:
    user = await app.user()
    study = await studies.create(
        CreateStudy(actor=user, patient_ref="MRN-1", accession_number="A-1")
    )
    changed = await studies.update(
        UpdateStudy(actor=user, study_id=study.id, accession_number="", study_date=date(2026, 1, 2))
    )
    assert changed.accession_number is None
    assert changed.study_date == date(2026, 1, 2)
    assert app.db.studies[study.id] == changed
    assert app.db.audit[-1].action == "study.updated"
    assert app.db.audit[-1].detail == "fields=study_date,accession_number"
    with pytest.raises(InvalidInput) as nothing:
        await studies.update(UpdateStudy(actor=user, study_id=study.id, patient_ref="MRN-1"))
    assert nothing.value.code is ErrorCode.NOTHING_TO_CHANGE


async def test_someone_elses_study_reads_as_absent(app: App, studies: Studies) -> None:
    owner, other = await app.user(), await app.user()
    admin = await app.user(role=Role.ADMIN)
    study = await studies.create(CreateStudy(actor=owner, patient_ref="MRN-1"))
    for attempt in (
        studies.get(GetStudy(actor=other, study_id=study.id)),
        studies.update(UpdateStudy(actor=other, study_id=study.id, patient_ref="MRN-2")),
        studies.add(AddImagesToStudy(actor=other, study_id=study.id, uploads=(png("a"),))),
        studies.get(GetStudy(actor=owner, study_id=uuid4())),
    ):
        with pytest.raises(NotFound) as hidden:
            await attempt
        assert hidden.value.code is ErrorCode.STUDY_NOT_FOUND
    assert (await studies.get(GetStudy(actor=admin, study_id=study.id))).current.study == study
    assert app.db.predictions == {}


# --- AddImagesToStudy ---------------------------------------------------------------------


async def test_images_are_filed_with_their_positions_and_a_bad_file_is_refused_alone(
    app: App, studies: Studies
) -> None:
    user = await app.user()
    study = await studies.create(CreateStudy(actor=user, patient_ref="MRN-1"))
    outcomes = await studies.add(
        AddImagesToStudy(
            actor=user,
            study_id=study.id,
            uploads=(png("a", 200), Upload("bad.png", b"nope"), png("b", 40)),
            positions=(left(1, View.RADIAL), None, None),
        )
    )
    assert [o.error.code if o.error else None for o in outcomes] == [
        None,
        ErrorCode.IMAGE_FORMAT_NOT_ACCEPTED,
        None,
    ]
    first, second = stored(outcomes)
    assert (first.study_id, first.position) == (study.id, left(1, View.RADIAL))
    assert (second.study_id, second.position) == (study.id, None)
    assert app.db.predictions[first.id] == first
    assert app.actions().count("study.image_added") == 2
    assert app.actions().count("prediction.created") == 2


async def test_positions_must_match_the_uploads(app: App, studies: Studies) -> None:
    user = await app.user()
    study = await studies.create(CreateStudy(actor=user, patient_ref="MRN-1"))
    with pytest.raises(InvalidInput) as refused:
        await studies.add(
            AddImagesToStudy(
                actor=user, study_id=study.id, uploads=(png("a"), png("b")), positions=(None,)
            )
        )
    assert refused.value.code is ErrorCode.POSITIONS_MISMATCH
    assert refused.value.params == {"count": 2}


async def test_loose_uploads_stay_unfiled(app: App) -> None:
    user = await app.user()
    [outcome] = await app.predict_and_store(PredictAndStore(actor=user, uploads=(png("a"),)))
    assert outcome.prediction is not None
    assert (outcome.prediction.study_id, outcome.prediction.position) == (None, None)


async def test_an_admin_files_into_a_clinicians_study_for_the_clinician(
    app: App, studies: Studies
) -> None:
    owner, admin = await app.user(), await app.user(role=Role.ADMIN)
    study = await studies.create(CreateStudy(actor=owner, patient_ref="MRN-1"))
    [prediction] = stored(
        await studies.add(AddImagesToStudy(actor=admin, study_id=study.id, uploads=(png("a"),)))
    )
    assert prediction.owner_id == owner.id
    assert app.db.audit[-1].actor_id == admin.id


async def test_dicom_tags_fill_a_named_study_and_give_the_side(app: App, studies: Studies) -> None:
    user = await app.user()
    study = await studies.create(CreateStudy(actor=user, patient_ref="MRN-7"))
    [prediction] = stored(
        await studies.add(
            AddImagesToStudy(
                actor=user, study_id=study.id, uploads=(Upload("a.dcm", fake_dicom()),)
            )
        )
    )
    filled = app.db.studies[study.id]
    assert (filled.study_instance_uid, filled.accession_number, filled.study_date) == (
        UID_A,
        "ACC-9",
        date(2026, 3, 14),
    )
    assert prediction.position == ImagePosition(Laterality.LEFT, view=View.RADIAL)
    assert "study.updated" in app.actions()


async def test_a_dicom_of_another_patient_study_or_side_is_refused(
    app: App, studies: Studies
) -> None:
    user = await app.user()
    study = await studies.create(
        CreateStudy(actor=user, patient_ref="MRN-7", study_instance_uid=UID_A)
    )
    outcomes = await studies.add(
        AddImagesToStudy(
            actor=user,
            study_id=study.id,
            uploads=(
                Upload("other-patient.dcm", fake_dicom("a", patient_id="MRN-8")),
                Upload("other-study.dcm", fake_dicom("b", study_uid=UID_B)),
                Upload("wrong-side.dcm", fake_dicom("c", laterality="L")),
                Upload("fine.dcm", fake_dicom("d", laterality=None)),
            ),
            positions=(
                None,
                None,
                ImagePosition(Laterality.RIGHT),
                ImagePosition(Laterality.RIGHT),
            ),
        )
    )
    assert [o.error.code if o.error else None for o in outcomes] == [
        ErrorCode.IMAGE_OTHER_STUDY,
        ErrorCode.IMAGE_OTHER_STUDY,
        ErrorCode.IMAGE_SIDE_MISMATCH,
        None,
    ]
    assert outcomes[0].error is not None
    assert outcomes[0].error.params == {"filename": "other-patient.dcm"}
    assert len(app.db.predictions) == 1


async def test_dicom_uploads_without_a_study_file_by_their_study_uid(
    app: App, studies: Studies
) -> None:
    user = await app.user()
    outcomes = await studies.add(
        AddImagesToStudy(
            actor=user,
            study_id=None,
            uploads=(
                Upload("radial.dcm", fake_dicom("a", view="RADIAL")),
                Upload("antiradial.dcm", fake_dicom("b", view="ANTIRADIAL")),
                png("loose"),
                Upload("anonymous.dcm", fake_dicom("c", patient_id="", study_uid=UID_B)),
            ),
        )
    )
    assert [o.error.code if o.error else None for o in outcomes] == [
        None,
        None,
        ErrorCode.IMAGE_NEEDS_STUDY,
        ErrorCode.IMAGE_NO_PATIENT_ID,
    ]
    [study] = app.db.studies.values()
    assert (study.owner_id, study.patient_ref, study.study_instance_uid) == (
        user.id,
        "MRN-7",
        UID_A,
    )
    radial, antiradial = stored(outcomes)
    assert radial.study_id == antiradial.study_id == study.id
    [lesion] = (await studies.get(GetStudy(actor=user, study_id=study.id))).current.lesions
    assert {v.position.view for v in lesion.views if v.position} == {View.RADIAL, View.ANTIRADIAL}
    # a later upload of the same study joins it
    await studies.add(
        AddImagesToStudy(actor=user, study_id=None, uploads=(Upload("c.dcm", fake_dicom("e")),))
    )
    assert len(app.db.studies) == 1
    assert app.actions().count("study.created") == 1


# --- ListStudies / GetStudy ---------------------------------------------------------------


async def test_list_studies_is_owner_scoped_filtered_and_audited(
    app: App, studies: Studies
) -> None:
    user, other = await app.user(), await app.user()
    admin = await app.user(role=Role.ADMIN)
    mine = await studies.create(
        CreateStudy(actor=user, patient_ref="MRN-1", study_date=date(2026, 1, 5))
    )
    await studies.create(CreateStudy(actor=other, patient_ref="MRN-2"))
    await studies.add(
        AddImagesToStudy(actor=user, study_id=mine.id, uploads=(png("a", 250),))
    )  # p = 0.98
    page = await studies.list(ListStudies(actor=user))
    assert [s.study.id for s in page.items] == [mine.id]
    assert (page.items[0].image_count, page.items[0].reviewed_count) == (1, 0)
    assert (await studies.list(ListStudies(actor=admin))).total == 2
    filters = StudyFilters.parse(
        patient_ref="mrn-1", date_from="2026-01-05", date_to="2026-01-05", band="very_high"
    )
    assert (await studies.list(ListStudies(actor=admin, filters=filters))).total == 1
    for narrower in (
        StudyFilters(band=BandName.LOW),
        StudyFilters(reviewed=True),
        StudyFilters(accession="X"),
    ):
        assert (await studies.list(ListStudies(actor=user, filters=narrower))).total == 0
    assert app.actions()[-1] == "study.listed"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, ErrorCode.DATE_RANGE_REVERSED),
        ({"date_from": "yesterday"}, ErrorCode.DATE_INVALID),
        ({"patient_ref": "M" * 101}, ErrorCode.SEARCH_TOO_LONG),
        ({"band": "purple"}, ErrorCode.INVALID_INPUT),
    ],
)
async def test_bad_study_filters_are_refused(
    app: App,
    studies: Studies,
    typed: dict,  # type: ignore[type-arg]
    code: ErrorCode,
) -> None:
    user = await app.user()
    with pytest.raises(InvalidInput) as refused:
        await studies.list(ListStudies(actor=user, filters=StudyFilters.parse(**typed)))
    assert refused.value.code is code


async def test_get_study_shows_lesions_and_the_patients_earlier_studies(
    app: App, studies: Studies
) -> None:
    user, other = await app.user(), await app.user()
    admin = await app.user(role=Role.ADMIN)

    async def visit(actor: User, day: date, level: int) -> Study:
        study = await studies.create(CreateStudy(actor=actor, patient_ref="MRN-1", study_date=day))
        await studies.add(
            AddImagesToStudy(
                actor=actor, study_id=study.id, uploads=(png(f"{day}", level),), positions=(left(),)
            )
        )
        return study

    oldest = await visit(user, date(2024, 1, 1), 30)
    older = await visit(user, date(2025, 1, 1), 60)
    theirs = await visit(other, date(2025, 6, 1), 90)
    current = await visit(user, date(2026, 1, 1), 220)
    await visit(user, date(2026, 6, 1), 10)  # later: not a prior
    await studies.create(CreateStudy(actor=user, patient_ref="MRN-2", study_date=date(2020, 1, 1)))
    app.db.audit.clear()

    detail = await studies.get(GetStudy(actor=user, study_id=current.id, client="10.0.0.2"))
    assert detail.current.study == current
    [lesion] = detail.current.lesions
    assert lesion.p_malignant == pytest.approx(220 / 255)
    assert [p.study.id for p in detail.priors] == [older.id, oldest.id]
    assert [len(p.images) for p in detail.priors] == [1, 1]
    assert detail.priors[0].lesions[0].p_malignant == pytest.approx(60 / 255)
    [entry] = app.db.audit
    assert (entry.action, entry.target_id, entry.detail) == (
        "study.viewed",
        str(current.id),
        "priors=2",
    )
    as_admin = await studies.get(GetStudy(actor=admin, study_id=current.id))
    assert [p.study.id for p in as_admin.priors] == [theirs.id, older.id, oldest.id]


async def test_the_csv_export_carries_the_study_fields(app: App, studies: Studies) -> None:
    user = await app.user()
    study = await studies.create(
        CreateStudy(
            actor=user, patient_ref="=MRN-1", accession_number="A-1", study_date=date(2026, 2, 3)
        )
    )
    where = ImagePosition(Laterality.RIGHT, 2, View.TRANSVERSE, 9.5, 1.25)
    await studies.add(
        AddImagesToStudy(actor=user, study_id=study.id, uploads=(png("a"),), positions=(where,))
    )
    await app.predict_and_store(PredictAndStore(actor=user, uploads=(png("loose"),)))
    rows = list(csv.reader(io.StringIO(await app.export(ExportPredictions(actor=user)))))
    by_file = {row[3]: dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]}
    filed, loose = by_file["a.png"], by_file["loose.png"]
    assert [filed[k] for k in CSV_HEADER[CSV_HEADER.index("study_id") :]] == [
        str(study.id),
        "'=MRN-1",  # a spreadsheet formula neutralised
        "A-1",
        "2026-02-03",
        "R",
        "9:30",
        "1.25",
        "transverse",
        "2",
    ]
    assert all(loose[k] == "" for k in CSV_HEADER[CSV_HEADER.index("study_id") :])


async def test_deleting_a_study_deletes_its_analyses_and_unused_files(
    app: App, studies: Studies
) -> None:
    user, other = await app.user(), await app.user()
    study = await studies.create(CreateStudy(actor=user, patient_ref="MRN-1"))
    shared, only_here = png("shared"), png("only-here", 10)
    await studies.add(AddImagesToStudy(actor=user, study_id=study.id, uploads=(shared, only_here)))
    [loose] = await app.predict_and_store(PredictAndStore(actor=user, uploads=(shared,)))
    with pytest.raises(NotFound):
        await studies.delete(DeleteStudy(actor=other, study_id=study.id))
    await studies.delete(DeleteStudy(actor=user, study_id=study.id))
    assert app.db.studies == {}
    assert loose.prediction is not None
    assert list(app.db.predictions) == [loose.prediction.id]
    assert set(app.images.blobs) == {loose.prediction.image_sha256}  # still used: kept
    assert app.db.audit[-1].action == "study.deleted"
    assert app.db.audit[-1].detail == f"owner={user.id}; images=2"


async def test_an_image_can_be_placed_after_its_upload(app: App, studies: Studies) -> None:
    user, other = await app.user(), await app.user()
    elsewhere = await studies.create(CreateStudy(actor=user, patient_ref="MRN-8"))
    [a, b] = stored(
        await studies.add(
            AddImagesToStudy(
                actor=user,
                study_id=None,
                uploads=(Upload("a.dcm", fake_dicom("a", 200)), Upload("b.dcm", fake_dicom("b"))),
            )
        )
    )
    assert a.study_id is not None
    [both] = (await studies.get(GetStudy(actor=user, study_id=a.study_id))).current.lesions
    assert len(both.views) == 2  # the header gave the side only: lesion 1 for both
    placed = await studies.place(
        PlaceStudyImage(actor=user, study_id=a.study_id, prediction_id=b.id, position=left(2))
    )
    assert placed.position == left(2)
    lesions = (await studies.get(GetStudy(actor=user, study_id=a.study_id))).current.lesions
    assert [(x.lesion_number, len(x.views)) for x in lesions] == [(1, 1), (2, 1)]
    assert "study.image_placed" in app.actions()
    for wrong in (
        PlaceStudyImage(actor=other, study_id=a.study_id, prediction_id=b.id, position=None),
        PlaceStudyImage(actor=user, study_id=elsewhere.id, prediction_id=b.id, position=None),
        PlaceStudyImage(actor=user, study_id=a.study_id, prediction_id=uuid4(), position=None),
    ):
        with pytest.raises(NotFound):
            await studies.place(wrong)
    assert app.db.predictions[b.id].position == left(2)
