"""Studies: open one, search, upload views with their positions, lesions combined, priors."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from application.commands import AddImagesToStudy, CreateStudy, Upload
from domain.studies import ImagePosition, Laterality
from domain.users import User as Account
from tests.e2e.web.conftest import FakeCore, sign_in
from tests.fakes import fake_image


async def seeded_study(core: FakeCore, owner: Account, patient: str, when: date, level: int):  # type: ignore[no-untyped-def]
    study = await core.create_study()(
        CreateStudy(actor=owner, patient_ref=patient, study_date=when, accession_number="A1")
    )
    await core.add_images_to_study()(
        AddImagesToStudy(
            actor=owner,
            study_id=study.id,
            uploads=(Upload("old.png", fake_image("old", level)),),
            positions=(ImagePosition(Laterality.LEFT, lesion_number=1),),
        )
    )
    return study


async def wait_for(check, tries: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


async def test_a_study_from_two_views_of_one_lesion_with_priors(user: User, core: FakeCore) -> None:
    me = await core.account("rad@example.org")
    await seeded_study(core, me, "MRN-0042", date(2024, 3, 1), level=60)
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    user.find(marker="nav-studies").click()
    await user.should_see("New study")
    await user.should_see("Page 1 of 1 (1 studies)")

    user.find(marker="create-study").click()
    patient = user.find(kind=ui.input, marker="study-patient").elements.pop()
    await wait_for(lambda: patient.error == "Enter the patient reference.")
    user.find(kind=ui.input, marker="study-patient").elements.pop().value = "MRN-0042"
    user.find(kind=ui.input, marker="study-accession").elements.pop().value = "ACC-7"
    user.find(kind=ui.input, marker="study-date").elements.pop().value = "2025-02-03"
    user.find(marker="create-study").click()
    await user.should_see("Study of MRN-0042", retries=50)
    await user.should_see("No images in this study yet.")
    await user.should_see("2024-03-01 · accession A1")  # the prior, beside the current study
    await user.should_see(marker="print-report")

    uploader = user.find(kind=ui.upload, marker="study-uploader").elements.pop()
    await uploader.handle_uploads(
        [
            SmallFileUpload("radial.png", "image/png", fake_image("r", 230)),
            SmallFileUpload("anti.png", "image/png", fake_image("a", 120)),
            SmallFileUpload("notes.png", "image/png", b"not an image"),
        ]
    )
    await user.should_see(marker="pending-side", retries=50)
    await wait_for(lambda: len(user.find(marker="pending-side").elements) == 3)
    for side in user.find(kind=ui.select, marker="pending-side").elements:
        side.value = "R"
    views = user.find(kind=ui.select, marker="pending-view").elements
    views_by_order = sorted(views, key=lambda e: e.id)
    views_by_order[0].value = "radial"
    views_by_order[1].value = "antiradial"
    clocks = sorted(user.find(kind=ui.input, marker="pending-clock").elements, key=lambda e: e.id)
    clocks[0].value = "10:30"
    user.find(marker="analyse-study").click()

    await user.should_see(marker="lesion R1", retries=100)
    await user.should_see("Right breast, lesion 1 (2 view(s))")
    await user.should_see("'notes.png' is not a PNG or JPEG image.")  # stays, with its reason
    await user.should_see("90.2 % against the threshold 50.0 %, from the view radial.png")
    await user.should_see("Right, 10:30 o'clock, Radial")
    stored = [p for p in core.db.predictions.values() if p.filename in {"radial.png", "anti.png"}]
    assert {p.position.laterality for p in stored if p.position} == {Laterality.RIGHT}
    assert len({p.study_id for p in stored}) == 1

    radial = next(p for p in stored if p.filename == "radial.png")
    await user.open(f"/analysis/{radial.id}")
    await user.should_see("Right, 10:30 o'clock, Radial")
    await user.should_see(marker="open-study")


async def test_print_report_gives_the_studys_pdf_in_the_readers_language(
    user: User, core: FakeCore
) -> None:
    me = await core.account("rad@example.org")
    study = await seeded_study(core, me, "MRN-77", date(2024, 5, 1), level=200)
    user.http_client.headers["accept-language"] = "fr-FR,fr;q=0.9"
    await sign_in(user, me.email)
    await user.should_see("Analyser des images échographiques")
    await user.open(f"/studies/{study.id}")
    await user.should_see("Imprimer le compte rendu")

    response = await user.http_client.get(f"/studies/{study.id}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content == b"%PDF-fake MRN-77 fr 1 lesions 0 unplaced"
    assert [e.action for e in core.db.audit].count("study.report") == 1

    missing = await user.http_client.get(f"/studies/{uuid4()}/report.pdf")
    assert missing.status_code == 404
    user.http_client.cookies.clear()
    signed_out = await user.http_client.get(f"/studies/{study.id}/report.pdf")
    assert signed_out.status_code == 303
    assert len(core.reports.reports) == 1


async def test_a_study_in_french(user: User, core: FakeCore) -> None:
    me = await core.account("rad@example.org")
    study = await seeded_study(core, me, "MRN-5", date(2024, 5, 1), level=200)
    user.http_client.headers["accept-language"] = "fr-FR,fr;q=0.9"
    await sign_in(user, me.email)
    await user.should_see("Analyser des images échographiques")
    await user.open(f"/studies/{study.id}")
    await user.should_see("Examen de MRN-5")
    await user.should_see("Sein gauche, lésion 1 (1 coupe(s))")
    await user.should_see("78,4 % pour un seuil de 50,0 %, d'après la coupe old.png")


async def test_a_study_is_corrected_with_errors_under_their_field(
    user: User, core: FakeCore
) -> None:
    me = await core.account("rad@example.org")
    study = await seeded_study(core, me, "MRN-6", date(2024, 5, 1), level=200)
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open(f"/studies/{study.id}")
    user.find(marker="edit-study").click()
    accession = user.find(kind=ui.input, marker="edit-accession").elements.pop()
    accession.value = "X" * 17
    user.find(marker="save-study").click()
    await wait_for(lambda: accession.error == "The accession number must be at most 16 characters.")
    accession.value = "ACC-9"
    user.find(kind=ui.input, marker="edit-date").elements.pop().value = "2024-05-02"
    user.find(marker="save-study").click()
    await user.should_see("Accession number: ACC-9", retries=50)
    await user.should_see("Study date: 2024-05-02")
    stored = core.db.studies[study.id]
    assert (stored.accession_number, stored.study_date) == ("ACC-9", date(2024, 5, 2))


async def test_studies_are_searched_by_patient_reference(user: User, core: FakeCore) -> None:
    me = await core.account("rad@example.org")
    await seeded_study(core, me, "MRN-1", date(2024, 1, 1), level=20)
    await seeded_study(core, me, "MRN-2", date(2024, 1, 2), level=240)
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/studies")
    await user.should_see("Page 1 of 1 (2 studies)")
    user.find(kind=ui.input, marker="search-patient").elements.pop().value = "MRN-2"
    user.find(marker="search-studies").click()
    await user.should_see("Page 1 of 1 (1 studies)")
    table = user.find(kind=ui.table, marker="studies-table").elements.pop()
    assert [r["patient"] for r in table.rows] == ["MRN-2"]

    user.find(kind=ui.input, marker="search-patient").elements.pop().value = ""
    user.find(kind=ui.select, marker="search-band").elements.pop().value = "low"
    user.find(marker="search-studies").click()
    await wait_for(lambda: [r["patient"] for r in table.rows] == ["MRN-1"])


async def test_someone_elses_study_is_not_found(user: User, core: FakeCore) -> None:
    other = await core.account("other@example.org")
    theirs = await seeded_study(core, other, "MRN-9", date(2024, 1, 1), level=20)
    await core.account("me@example.org")
    await sign_in(user, "me@example.org")
    await user.should_see("Analyze ultrasound images")
    await user.open(f"/studies/{theirs.id}")
    await user.should_see(marker="study-error")
    await user.should_not_see("MRN-9")
