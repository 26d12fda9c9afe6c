"""Analyze: a batch with one good and one corrupt file, the server-side size limit, heatmap,
and a refusal said in French."""

from __future__ import annotations

from dependency_injector import providers
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from adapters.imaging.pillow_decoder import PillowImageDecoder
from domain.users import Role
from tests.e2e.web.conftest import FakeCore, sign_in
from tests.fakes import fake_image


async def upload(user: User, *files: tuple[str, bytes]) -> None:
    uploader = user.find(kind=ui.upload).elements.pop()
    await uploader.handle_uploads(
        [SmallFileUpload(name, "image/png", data) for name, data in files]
    )


async def test_one_bad_file_never_sinks_the_batch(user: User, core: FakeCore) -> None:
    owner = await core.account("ana@example.org", Role.CLINICIAN)
    await sign_in(user, owner.email)
    await user.should_see("Analyze ultrasound images")

    await upload(user, ("bright.png", fake_image("b", level=230)), ("broken.png", b"not an image"))

    await user.should_see("Suspicious for malignancy — recommend follow-up", retries=50)
    await user.should_see("'broken.png' is not a PNG or JPEG image.", retries=50)
    await user.should_see("Probability of malignancy: 90.2 %")
    await user.should_see("Model version: fake-1")
    stored = list(core.db.predictions.values())
    assert [p.filename for p in stored] == ["bright.png"]
    assert stored[0].owner_id == owner.id


async def test_benign_result_is_said_in_words(user: User, core: FakeCore) -> None:
    await core.account("bo@example.org")
    await sign_in(user, "bo@example.org")
    await user.should_see("Analyze ultrasound images")
    await upload(user, ("dark.png", fake_image("d", level=20)))
    await user.should_see("No malignancy suspected at the model's operating point", retries=50)
    await user.should_see("decision threshold (black mark) 50.0 %")


async def test_oversized_file_is_refused_on_the_server(user: User, core: FakeCore) -> None:
    await core.account("cy@example.org")
    await sign_in(user, "cy@example.org")
    await user.should_see("Analyze ultrasound images")
    await upload(user, ("huge.png", b"x" * (64 * 1024 + 1)))
    await user.should_see("The file is larger than the 64 KB limit.", retries=50)
    assert not core.db.predictions


async def test_heatmap_toggle_renders_the_overlay(user: User, core: FakeCore) -> None:
    await core.account("di@example.org")
    await sign_in(user, "di@example.org")
    await user.should_see("Analyze ultrasound images")
    await upload(user, ("scan.png", fake_image("s", level=180)))
    await user.should_see(marker="heatmap-toggle", retries=50)
    await user.should_not_see(marker="overlay")

    user.find(marker="heatmap-toggle").click()
    await user.should_see(marker="overlay", retries=20)
    overlay = user.find(kind=ui.image, marker="overlay").elements.pop()
    assert overlay.source.startswith("data:image/png;base64,")


async def test_refusal_of_a_text_file_is_said_in_french(user: User, core: FakeCore) -> None:
    # the real decoder, so the message is the one a clinician would get
    core.container.decoder.override(providers.Object(PillowImageDecoder(max_bytes=64 * 1024)))
    await core.account("fe@example.org")
    user.http_client.headers["accept-language"] = "fr-FR,fr;q=0.9"
    await sign_in(user, "fe@example.org")
    await user.should_see("Analyser des images échographiques")

    await upload(user, ("notes.png", b"Compte rendu : rien a signaler.\n"))

    await user.should_see("'notes.png' n'est pas une image PNG ou JPEG.", retries=50)
    await user.should_see("Refusé")
    await user.should_not_see("is not a PNG")
    assert not core.db.predictions
