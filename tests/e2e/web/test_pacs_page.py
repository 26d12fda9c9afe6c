"""The PACS page: search the (fake) PACS, see its studies, analyse one, errors said plainly."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from dependency_injector import providers
from nicegui import ui
from nicegui.testing import User

from application.ports import DecodedImage, DicomInfo, PacsInstance, PacsStudy
from tests.e2e.web.conftest import FakeCore, sign_in
from tests.fakes import FakeImageDecoder, FakePacsClient, FakeResultDocumentBuilder, fake_image

US = "1.2.840.10008.5.1.4.1.1.6.1"
UID = "1.2.826.0.1.42"


class TaggedDecoder(FakeImageDecoder):
    """The fake decoder, each image carrying the DICOM header of the PACS study."""

    async def decode(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        image = await super().decode(data, filename)
        sop = filename.removesuffix(".dcm")
        tags = DicomInfo(
            "MRN-0042", "ACC-9", UID, f"{UID}.0", sop, US, date(2026, 11, 30), "L", None, 0, 1, b""
        )
        return replace(image, dicom=tags)


def pacs_for(core: FakeCore) -> FakePacsClient:
    pacs = FakePacsClient()
    study = PacsStudy(UID, "MRN-0042", "ACC-9", date(2026, 11, 30), "Breast US", ("US",), 2)
    # one bright image (the fake model outlines a lesion) and one dark (it finds none)
    images = [fake_image(f"{n}", level) for n, level in ((1, 200), (2, 40))]
    pacs.hold(
        study, [PacsInstance(US, f"{UID}.{n}", f"{UID}.0", d) for n, d in enumerate(images, 1)]
    )
    core.container.pacs.override(providers.Object(pacs))
    return pacs


async def test_search_lists_the_pacs_studies_and_analyse_says_why_nothing_came(
    user: User, core: FakeCore
) -> None:
    pacs_for(core)
    me = await core.account("rad@example.org")
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/pacs")
    await user.should_see("Find a study on the PACS")

    user.find(marker="pacs-search").click()
    await user.should_see("Give a patient reference or an accession number to search the PACS.")

    user.find(kind=ui.input, marker="pacs-accession").elements.pop().value = "ACC-NONE"
    user.find(marker="pacs-search").click()
    await user.should_see("The PACS holds no study for this search.")

    user.find(kind=ui.input, marker="pacs-accession").elements.pop().value = "ACC-9"
    user.find(marker="pacs-search").click()
    await user.should_see("MRN-0042")
    await user.should_see("Breast US")
    await user.should_see("2 objects")

    # The fake decoder reads no DICOM header, so nothing files into a study by its UID.
    user.find(marker=f"pacs-analyse-{UID}").click()
    await user.should_see("The study holds no image the model can read (2 objects left out).")


async def test_an_unreachable_pacs_is_said_plainly(user: User, core: FakeCore) -> None:
    pacs_for(core).unreachable = True
    me = await core.account("rad@example.org")
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/pacs")
    user.find(kind=ui.input, marker="pacs-patient").elements.pop().value = "MRN-0042"
    user.find(marker="pacs-search").click()
    await user.should_see("The PACS cannot be reached right now; try again later.")


async def signed_in_with_a_tagged_pacs(user: User, core: FakeCore) -> FakePacsClient:
    """A PACS whose images carry their study's DICOM header, and a signed-in clinician."""
    pacs = pacs_for(core)
    core.container.decoder.override(providers.Object(TaggedDecoder(max_bytes=64 * 1024)))
    core.container.result_builder.override(providers.Object(FakeResultDocumentBuilder(UID)))
    me = await core.account("rad@example.org")
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    return pacs


async def test_analyse_then_send_the_findings_back(user: User, core: FakeCore) -> None:
    pacs = await signed_in_with_a_tagged_pacs(user, core)
    await user.open("/pacs")
    user.find(kind=ui.input, marker="pacs-patient").elements.pop().value = "MRN-0042"
    user.find(marker="pacs-search").click()
    await user.should_see("Breast US")
    user.find(marker=f"pacs-analyse-{UID}").click()
    await user.should_see("2 images analysed, 0 objects skipped.")
    await user.should_see("Open the study")
    user.find(marker="pacs-send").click()
    await user.should_see("Report stored on the PACS: 2 images, 1 lesion outlines.")
    assert [data.split()[0] for data in pacs.stored] == [b"SR", b"SEG"]


async def test_with_a_pacs_configured_studies_lead_to_it_and_a_study_is_sent_from_its_page(
    user: User, core: FakeCore
) -> None:
    settings = replace(core.container.settings(), pacs_dicomweb_url="http://pacs.invalid/dicom-web")
    core.container.settings.override(providers.Object(settings))
    pacs = await signed_in_with_a_tagged_pacs(user, core)
    await user.open("/studies")
    user.find(marker="open-pacs").click()
    await user.should_see(marker="pacs-search")
    user.find(kind=ui.input, marker="pacs-patient").elements.pop().value = "MRN-0042"
    user.find(marker="pacs-search").click()
    await user.should_see("Breast US")
    user.find(marker=f"pacs-analyse-{UID}").click()
    await user.should_see("Open the study")
    [study] = core.db.studies.values()
    await user.open(f"/studies/{study.id}")
    user.find(marker="send-to-pacs").click()
    await user.should_see("Report stored on the PACS: 2 images, 1 lesion outlines.")
    assert [data.split()[0] for data in pacs.stored] == [b"SR", b"SEG"]


async def test_without_a_pacs_the_study_pages_offer_none(user: User, core: FakeCore) -> None:
    me = await core.account("rad@example.org")
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/studies")
    await user.should_see("Studies")
    await user.should_not_see(marker="open-pacs")
