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


async def on_analyze(user: User, core: FakeCore, email: str) -> None:
    """A new clinician, signed in, on the Analyze page."""
    await core.account(email)
    await sign_in(user, email)
    await user.should_see("Analyze ultrasound images")


async def test_one_bad_file_never_sinks_the_batch(user: User, core: FakeCore) -> None:
    owner = await core.account("ana@example.org", Role.CLINICIAN)
    await sign_in(user, owner.email)
    await user.should_see("Analyze ultrasound images")

    await upload(user, ("bright.png", fake_image("b", level=230)), ("broken.png", b"not an image"))

    await user.should_see("High likelihood of malignancy", retries=50)
    await user.should_see("'broken.png' is not a PNG or JPEG image.", retries=50)
    await user.should_see("Probability of malignancy: 90.2 %")
    await user.should_see("Model version: fake-1")
    stored = list(core.db.predictions.values())
    assert [p.filename for p in stored] == ["bright.png"]
    assert stored[0].owner_id == owner.id


async def test_benign_result_is_said_in_words(user: User, core: FakeCore) -> None:
    await on_analyze(user, core, "bo@example.org")
    await upload(user, ("dark.png", fake_image("d", level=20)))
    await user.should_see("Low likelihood of malignancy", retries=50)
    await user.should_see("Below the model's decision threshold (50.0 %).")
    await user.should_see("decision threshold (black mark) 50.0 %")
    await user.should_not_see(marker="borderline")


async def test_close_to_the_threshold_is_borderline_not_suspicious(
    user: User, core: FakeCore
) -> None:
    await on_analyze(user, core, "bl@example.org")
    await upload(user, ("close.png", fake_image("c", level=120)))  # p = 47.1 %, threshold 50 %
    await user.should_see("Intermediate likelihood of malignancy", retries=50)
    await user.should_see("Below the model's decision threshold (50.0 %).")
    await user.should_see(marker="borderline")
    await user.should_not_see("Suspicious")


async def test_oversized_file_is_refused_on_the_server(user: User, core: FakeCore) -> None:
    await on_analyze(user, core, "cy@example.org")
    await upload(user, ("huge.png", b"x" * (64 * 1024 + 1)))
    await user.should_see("'huge.png' is larger than the 64 KB limit.", retries=50)
    assert not core.db.predictions


async def test_heatmap_toggle_renders_the_overlay(user: User, core: FakeCore) -> None:
    await on_analyze(user, core, "di@example.org")
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


def card_names(user: User) -> list[str]:
    """The file names of the result cards, top to bottom."""
    results = user.find(marker="results").elements.pop()
    markers = [child._markers for child in results.default_slot.children]
    return [" ".join(m[1:]) for m in markers if m and m[0] == "file-card"]


async def test_limits_come_from_the_settings_and_refusals_name_the_file(
    user: User, core: FakeCore
) -> None:
    await core.account("li@example.org")
    await sign_in(user, "li@example.org")
    await user.should_see("Limits: at most 10 files at a time, 64 KB and 4096 x 4096 pixels")
    uploader = user.find(kind=ui.upload).elements.pop()
    assert uploader.props["max-file-size"] == 64 * 1024
    assert uploader.props["max-files"] == 10
    assert ".dcm" in uploader.props["accept"]
    assert "application/dicom" in uploader.props["accept"]

    user.find(kind=ui.upload).trigger(
        "rejected",
        [
            {"name": "scan.dcm.zip", "size": 10, "reason": "accept"},
            {"name": "big.png", "size": 11 * 1024 * 1024, "reason": "max-file-size"},
            {"name": "eleventh.png", "size": 10, "reason": "max-files"},
        ],
    )
    await user.should_see(
        "'scan.dcm.zip' was not sent: only PNG, JPEG and DICOM files are accepted."
    )
    await user.should_see("'big.png' was not sent: it is 11 MB; the limit is 64 KB.")
    await user.should_see("'eleventh.png' was not sent: at most 10 files at a time.")


async def test_cards_follow_the_chosen_order_and_duplicates_are_pointed_out(
    user: User, core: FakeCore
) -> None:
    await on_analyze(user, core, "or@example.org")
    first, second = fake_image("1", level=200), fake_image("2", level=20)
    chosen = [{"name": n, "size": 1} for n in ("first.png", "second.png", "again.png")]
    user.find(kind=ui.upload).trigger("added", [chosen])
    # the uploads arrive in another order than the files were chosen in
    await upload(user, ("again.png", first), ("second.png", second), ("first.png", first))
    await user.should_see(marker="file-duplicate", retries=50)
    assert card_names(user) == ["first.png", "second.png", "again.png"]
    await user.should_see("already analysed in this session: not analysed again.")
    assert len(core.db.predictions) == 2


async def test_the_sessions_results_stay_when_coming_back(user: User, core: FakeCore) -> None:
    await on_analyze(user, core, "ba@example.org")
    await upload(user, ("kept.png", fake_image("k", level=200)), ("bad.png", b"nope"))
    await user.should_see(marker="open-detail", retries=50)
    await user.should_see("'bad.png' is not a PNG or JPEG image.", retries=50)

    await user.open("/history")
    await user.should_see("Page 1 of 1 (1 analyses)")
    await user.open("/")
    await user.should_see(marker="open-detail", retries=50)
    await user.should_see("'bad.png' is not a PNG or JPEG image.")
    assert card_names(user) == ["kept.png", "bad.png"]

    user.find(marker="clear-results").click()
    await user.should_not_see(marker="open-detail")
    await user.open("/")
    await user.should_see("Analyze ultrasound images")
    await user.should_not_see(marker="open-detail")


async def test_french_readers_get_french_numbers_and_units(user: User, core: FakeCore) -> None:
    await core.account("fr@example.org")
    user.http_client.headers["accept-language"] = "fr-FR,fr;q=0.9"
    await sign_in(user, "fr@example.org")
    await user.should_see("Limites : au plus 10 fichiers à la fois, 64 Ko et 4096 x 4096 pixels")
    await upload(user, ("clair.png", fake_image("c", level=230)))
    await user.should_see("Probabilité de malignité : 90,2 %", retries=50)
