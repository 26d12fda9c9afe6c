"""The study page's Print button target, /studies/{id}/report.pdf, for the signed-in reader."""

from __future__ import annotations

from uuid import uuid4

from dependency_injector import providers
from nicegui.testing import User

from application.commands import AddImagesToStudy, CreateStudy, Upload
from domain.studies import ImagePosition, Laterality
from tests.e2e.web.conftest import FakeCore, sign_in
from tests.fakes import FakeReportRenderer, fake_image


async def test_the_signed_in_reader_gets_the_pdf_in_the_sessions_language(
    user: User, core: FakeCore
) -> None:
    renderer = FakeReportRenderer()
    core.container.report_renderer.override(providers.Object(renderer))
    me, other = await core.account("rad@example.org"), await core.account("other@example.org")
    study = await core.create_study()(CreateStudy(actor=me, patient_ref="MRN-0042"))
    await core.add_images_to_study()(
        AddImagesToStudy(
            actor=me,
            study_id=study.id,
            uploads=(Upload("a.png", fake_image("a", 200)),),
            positions=(ImagePosition(Laterality.RIGHT),),
        )
    )
    url = f"/studies/{study.id}/report.pdf"
    anonymous = await user.http_client.get(url)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")

    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    r = await user.http_client.get(url, headers={"Accept-Language": "fr"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-fake MRN-0042")
    [report] = renderer.reports
    assert report.generated_by == me.email
    assert len(report.lesions) == 1
    assert report.language == "en"  # the session's language (set on the first page) wins

    theirs = await core.create_study()(CreateStudy(actor=other, patient_ref="MRN-9"))
    for missing in (f"/studies/{theirs.id}/report.pdf", f"/studies/{uuid4()}/report.pdf"):
        assert (await user.http_client.get(missing)).status_code == 404
    assert (await user.http_client.get("/studies/not-a-uuid/report.pdf")).status_code == 404
