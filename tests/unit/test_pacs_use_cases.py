"""The PACS use cases on fakes: search rules, import (non-images skipped, partial retrieves
refused unless accepted, filed all or nothing), send (sources matched by content, earlier
reports as predecessors, audited), and filing what the listener receives."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from application.commands import (
    AddImagesToStudy,
    DicomObject,
    ImportStudyFromPacs,
    PredictAndStore,
    ReceivePacsImages,
    SearchPacs,
    SendResultsToPacs,
    StoredOutcome,
)
from application.ports import DecodedImage, DicomInfo, PacsInstance, PacsStudy, UnitOfWork
from application.use_cases import (
    ImportStudyFromPacsUseCase,
    PredictAndStoreUseCase,
    ReceivePacsImagesUseCase,
    SearchPacsUseCase,
    SendResultsToPacsUseCase,
)
from application.use_cases._pacs import AddImages
from application.use_cases.predict_and_store import Filing
from domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound, PacsUnavailable
from domain.studies import ImagePosition, Laterality, Study
from domain.users import User
from tests.fakes import (
    FakeImageDecoder,
    FakePacsClient,
    FakeResultDocumentBuilder,
    fake_image,
)
from tests.unit.conftest import App

US = "1.2.840.10008.5.1.4.1.1.6.1"
SR = "1.2.840.10008.5.1.4.1.1.88.33"
STUDY_UID = "1.2.826.0.1.1"


class RecordingAddImages:
    """Stands in for AddImagesToStudy: stores each upload through the fakes and files it into
    the actor's study of STUDY_UID (opened when new), as DICOM tags would."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.calls: list[AddImagesToStudy] = []

    async def __call__(self, cmd: AddImagesToStudy) -> list[StoredOutcome]:
        self.calls.append(cmd)
        outcomes = await self.app.predict_and_store(
            PredictAndStore(actor=cmd.actor, uploads=cmd.uploads)
        )
        db = self.app.db
        study = next(
            (
                s
                for s in db.studies.values()
                if (s.owner_id, s.study_instance_uid) == (cmd.actor.id, STUDY_UID)
            ),
            None,
        ) or Study(
            uuid4(),
            cmd.actor.id,
            "MRN-1",
            date(2026, 11, 30),
            self.app.clock.now(),
            None,
            STUDY_UID,
        )
        db.studies[study.id] = study
        filed = []
        for outcome in outcomes:
            if outcome.prediction is not None:
                prediction = replace(outcome.prediction, study_id=study.id)
                db.predictions[prediction.id] = prediction
                outcome = StoredOutcome(outcome.filename, prediction)
            filed.append(outcome)
        return filed


def importer(
    app: App, pacs: FakePacsClient, add: RecordingAddImages | None = None
) -> ImportStudyFromPacsUseCase:
    return ImportStudyFromPacsUseCase(pacs, add or RecordingAddImages(app), app.uow, app.clock)


def pacs_with(*instances: PacsInstance) -> FakePacsClient:
    pacs = FakePacsClient()
    study = PacsStudy(STUDY_UID, "MRN-1", "ACC-1", date(2026, 11, 30), None, ("US",), None)
    pacs.hold(study, instances)
    return pacs


def image(n: int, level: int = 200) -> PacsInstance:
    return PacsInstance(US, f"1.2.3.{n}", "1.2.3", fake_image(f"img{n}", level))


async def test_search_needs_a_patient_or_an_accession(app: App) -> None:
    user = await app.user()
    search = SearchPacsUseCase(pacs_with(), app.uow, app.clock)
    with pytest.raises(InvalidInput) as raised:
        await search(SearchPacs(actor=user, patient_ref="  "))
    assert raised.value.code is ErrorCode.PACS_QUERY_EMPTY
    with pytest.raises(InvalidInput) as too_long:
        await search(SearchPacs(actor=user, accession_number="A" * 17))
    assert too_long.value.code is ErrorCode.ACCESSION_INVALID
    found = await search(SearchPacs(actor=user, accession_number="ACC-1"))
    assert [s.study_instance_uid for s in found] == [STUDY_UID]
    (entry,) = [e for e in app.db.audit if e.action == "pacs.searched"]
    assert entry.detail == "by=accession; found=1"
    assert "MRN" not in entry.detail


async def test_import_analyses_the_images_and_skips_the_rest(app: App) -> None:
    user = await app.user()
    report = PacsInstance(SR, "1.2.3.9", "1.2.9", b"not an image")
    add = RecordingAddImages(app)
    result = await importer(app, pacs_with(image(1), report, image(2)), add)(
        ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID)
    )
    assert len(result.predictions) == 2
    assert [(s.sop_instance_uid, s.reason) for s in result.skipped] == [("1.2.3.9", "not_an_image")]
    assert [u.filename for c in add.calls for u in c.uploads] == ["1.2.3.1.dcm", "1.2.3.2.dcm"]
    assert all(c.study_id is None and c.actor == user for c in add.calls)
    (entry,) = [e for e in app.db.audit if e.action == "pacs.imported"]
    assert entry.detail == "analysed=2; skipped=1; missing=0"


async def test_a_refused_image_is_reported_not_fatal(app: App) -> None:
    user = await app.user()
    broken = PacsInstance(US, "1.2.3.7", "1.2.3", b"garbage")
    result = await importer(app, pacs_with(image(1), broken))(
        ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID)
    )
    assert len(result.predictions) == 1
    assert [(s.sop_instance_uid, s.reason) for s in result.skipped] == [
        ("1.2.3.7", "image_format_not_accepted")
    ]


async def test_a_partial_retrieve_stores_nothing_unless_accepted(app: App) -> None:
    user = await app.user()
    pacs = pacs_with(image(1), image(2), image(3))
    pacs.withhold = {"1.2.3.3"}
    use_case = importer(app, pacs)
    with pytest.raises(PacsUnavailable) as raised:
        await use_case(ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID))
    assert raised.value.code is ErrorCode.PACS_RETRIEVE_PARTIAL
    assert dict(raised.value.params) == {"missing": 1, "count": 3}
    assert app.db.predictions == {}
    accepted = await use_case(
        ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID, accept_partial=True)
    )
    assert len(accepted.predictions) == 2
    assert accepted.missing == ("1.2.3.3",)


async def test_import_errors(app: App) -> None:
    user = await app.user()
    only_report = pacs_with(PacsInstance(SR, "1.2.3.9", "1.2.9", b"sr"))
    with pytest.raises(InvalidInput) as no_images:
        await importer(app, only_report)(
            ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID)
        )
    assert no_images.value.code is ErrorCode.PACS_NO_IMAGES
    with pytest.raises(NotFound) as unknown:
        await importer(app, pacs_with())(
            ImportStudyFromPacs(actor=user, study_instance_uid="1.2.999")
        )
    assert unknown.value.code is ErrorCode.PACS_STUDY_NOT_FOUND
    down = pacs_with(image(1))
    down.unreachable = True
    with pytest.raises(PacsUnavailable):
        await importer(app, down)(ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID))
    assert app.db.predictions == {}


def filing_into_one_study(
    app: App, store: PredictAndStoreUseCase, fail_at: str | None = None
) -> AddImages:
    """AddImagesToStudy on the real PredictAndStore transaction: every image into one study
    opened inside it; a database failure at the file named `fail_at`."""

    async def add(cmd: AddImagesToStudy) -> list[StoredOutcome]:
        study = Study(uuid4(), cmd.actor.id, "MRN-1", date(2026, 11, 30), app.clock.now())

        async def file(uow: UnitOfWork, index: int, filename: str, image: object) -> Filing:
            if filename == fail_at:
                raise OSError("database connection lost")
            if await uow.studies.get(study.id) is None:
                await uow.studies.add(study)
            return Filing(cmd.actor.id, study.id)

        return await store.store(cmd.actor, cmd.uploads, cmd.client, file)

    return add


async def test_an_import_is_filed_all_or_nothing(app: App) -> None:
    user = await app.user()
    pacs = pacs_with(*(image(n) for n in range(1, 10)))  # more than the old batches of 8
    failing = filing_into_one_study(app, app.predict_and_store, fail_at="1.2.3.9.dcm")
    with pytest.raises(OSError, match="connection lost"):
        await ImportStudyFromPacsUseCase(pacs, failing, app.uow, app.clock)(
            ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID)
        )
    assert (app.db.predictions, app.db.studies) == ({}, {})
    working = filing_into_one_study(app, app.predict_and_store)
    done = await ImportStudyFromPacsUseCase(pacs, working, app.uow, app.clock)(
        ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID)
    )
    assert len(done.predictions) == len(app.db.predictions) == 9
    assert len(done.study_ids) == len(app.db.studies) == 1


async def test_a_study_over_the_batch_limit_is_refused_whole(app: App) -> None:
    user = await app.user()
    small = PredictAndStoreUseCase(
        app.uow, app.decoder, app.classifier, app.images, app.clock, max_batch=2
    )
    pacs = pacs_with(image(1), image(2), image(3))
    with pytest.raises(InvalidInput) as raised:
        await ImportStudyFromPacsUseCase(
            pacs, filing_into_one_study(app, small), app.uow, app.clock
        )(ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID))
    assert raised.value.code is ErrorCode.TOO_MANY_IMAGES
    assert dict(raised.value.params) == {"count": 2}
    assert "3 images" in raised.value.message
    assert app.db.predictions == {}


async def study_of(app: App, owner: User, uid: str | None = STUDY_UID) -> Study:
    study = Study(uuid4(), owner.id, "MRN-1", date(2026, 11, 30), app.clock.now(), "ACC-1", uid)
    app.db.studies[study.id] = study
    return study


async def test_send_matches_sources_by_content_and_chains_versions(app: App) -> None:
    user = await app.user()
    study = await study_of(app, user)
    for n, level in ((1, 200), (2, 40)):
        stored = await app.stored(user, seed=f"img{n}", level=level)
        app.db.predictions[stored.id] = replace(
            stored,
            study_id=study.id,
            position=ImagePosition(
                Laterality.LEFT, clock_position=10.5, distance_from_nipple_cm=2.0
            ),
        )
    pacs = pacs_with(image(1, 200), image(2, 40), PacsInstance(SR, "1.2.3.9", "1.2.9", b"x"))
    builder = FakeResultDocumentBuilder(STUDY_UID)
    send = SendResultsToPacsUseCase(app.uow, pacs, builder, app.decoder, app.images, app.clock)

    first = await send(SendResultsToPacs(actor=user, study_id=study.id))
    assert (first.images, first.segmentations, first.previous_reports) == (2, 1, 0)
    findings, previous = builder.calls[0]
    assert previous == []
    by_source = {f.source: f for f in findings}
    bright = by_source[fake_image("img1", 200)]
    assert (bright.laterality, bright.clock_position, bright.distance_cm) == ("L", 10.5, 2.0)
    assert bright.p_malignant == pytest.approx(200 / 255, abs=0.01)
    assert bright.band is not None
    assert bright.birads is None
    assert len(pacs.stored) == 2  # the report and one SEG

    second = await send(SendResultsToPacs(actor=user, study_id=study.id))
    assert second.previous_reports == 1
    assert builder.calls[1][1] == pacs.reports[(STUDY_UID, builder.manufacturer)][:1]
    assert app.actions().count("study.sent_to_pacs") == 2


class CopyDecoder(FakeImageDecoder):
    """The fake decoder, reading the stored DICOM copies it is given as the real one would."""

    def __init__(self, copies: dict[bytes, DicomInfo]) -> None:
        super().__init__()
        self.copies = copies

    async def decode(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        image = await super().decode(data, filename, frame)
        return replace(image, dicom=self.copies[data]) if data in self.copies else image


def copy_of(sop_instance_uid: str, study_uid: str = STUDY_UID) -> DicomInfo:
    return DicomInfo(
        *(None, None, study_uid, "1.2.3", sop_instance_uid, US, None, "L", None),
        frame_index=0,
        frame_count=1,
        deidentified=b"",
    )


async def put(app: App, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    await app.images.put(digest, data)
    return digest


async def test_send_names_sources_by_the_uids_their_copies_retain(app: App) -> None:
    user = await app.user()
    study = await study_of(app, user)
    copy, copy_gone = fake_image("copy", 200), fake_image("gone", 90)
    kept = await app.stored(user, seed="img1", level=200)
    app.db.predictions[kept.id] = replace(
        kept, study_id=study.id, dicom_sha256=await put(app, copy)
    )
    loose = await app.stored(user, seed="img2", level=40)  # no copy: matched by content
    app.db.predictions[loose.id] = replace(loose, study_id=study.id)
    gone = await app.stored(user, seed="img3", level=90)  # its instance left the PACS
    app.db.predictions[gone.id] = replace(
        gone, study_id=study.id, dicom_sha256=await put(app, copy_gone)
    )
    # the PACS's rendering of the first source differs: only its UIDs can find it
    source = PacsInstance(US, "1.2.3.5", "1.2.3", fake_image("pacs rendering", 200))
    pacs = pacs_with(source, image(2, 40))
    decoder = CopyDecoder({copy: copy_of("1.2.3.5"), copy_gone: copy_of("1.2.3.8")})
    builder = FakeResultDocumentBuilder(STUDY_UID)
    send = SendResultsToPacsUseCase(app.uow, pacs, builder, decoder, app.images, app.clock)

    receipt = await send(SendResultsToPacs(actor=user, study_id=study.id))
    assert receipt.images == 2
    by_source = {f.source: f for f in builder.calls[0][0]}
    assert set(by_source) == {source.data, fake_image("img2", 40)}
    assert by_source[source.data].laterality == "L"  # read from the copy
    assert by_source[source.data].p_malignant == pytest.approx(200 / 255, abs=0.01)


async def test_send_refuses_what_it_cannot_report(app: App) -> None:
    user = await app.user()
    other = await app.user()
    pacs = pacs_with(image(1))
    send = SendResultsToPacsUseCase(
        app.uow, pacs, FakeResultDocumentBuilder(STUDY_UID), app.decoder, app.images, app.clock
    )
    no_uid = await study_of(app, user, uid=None)
    with pytest.raises(Conflict) as raised:
        await send(SendResultsToPacs(actor=user, study_id=no_uid.id))
    assert raised.value.code is ErrorCode.STUDY_NOT_FROM_PACS
    theirs = await study_of(app, other)
    with pytest.raises(NotFound) as hidden:
        await send(SendResultsToPacs(actor=user, study_id=theirs.id))
    assert hidden.value.code is ErrorCode.STUDY_NOT_FOUND
    mine = await study_of(app, user)
    stored = await app.stored(user, seed="img1", level=200)
    app.db.predictions[stored.id] = replace(stored, study_id=mine.id)
    pacs.unreachable = True
    with pytest.raises(PacsUnavailable):
        await send(SendResultsToPacs(actor=user, study_id=mine.id))
    assert "study.sent_to_pacs" not in app.actions()


async def test_received_objects_file_under_the_service_account(app: App) -> None:
    account = await app.user(email="listener@clinic.example")
    receive = ReceivePacsImagesUseCase(app.uow, RecordingAddImages(app))
    result = await receive(
        ReceivePacsImages(
            service_account="Listener@Clinic.example",
            objects=(
                DicomObject("1.2.3.1", US, STUDY_UID, fake_image("a")),
                DicomObject("1.2.3.9", SR, STUDY_UID, b"sr"),
            ),
        )
    )
    assert [p.owner_id for p in result.predictions] == [account.id]
    assert [s.reason for s in result.skipped] == ["not_an_image"]
    with pytest.raises(NotFound):
        await receive(ReceivePacsImages(service_account="nobody@clinic.example", objects=()))
    app.db.users[account.id] = replace(account, is_active=False)
    with pytest.raises(Forbidden):
        await receive(ReceivePacsImages(service_account=account.email, objects=()))


async def test_an_image_sent_or_imported_again_is_not_analysed_twice(app: App) -> None:
    user = await app.user()
    use_case = importer(app, pacs_with(image(1), image(2)))
    first = await use_case(ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID))
    assert len(first.predictions) == 2
    again = await use_case(ImportStudyFromPacs(actor=user, study_instance_uid=STUDY_UID))
    assert again.predictions == ()
    assert [s.reason for s in again.skipped] == ["already_analysed", "already_analysed"]
    assert len(app.db.predictions) == 2
    other = await app.user()  # another reader's study of the same UID is theirs to fill
    theirs = await use_case(ImportStudyFromPacs(actor=other, study_instance_uid=STUDY_UID))
    assert len(theirs.predictions) == 2
