"""Analyze: a batch with one good and one corrupt file, the server-side size limit, heatmap."""

from __future__ import annotations

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

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
    await user.should_see("broken.png: not a PNG or JPEG image.", retries=50)
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
