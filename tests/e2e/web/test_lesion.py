"""The lesion finding in the UI: its size in words, the outline toggle on the image, the
heatmap's colour legend; nothing of it for a model without a lesion output."""

from __future__ import annotations

import asyncio
import base64

from dependency_injector import providers
from nicegui import ui
from nicegui.testing import User

from tests.e2e.web.conftest import FakeCore, sign_in
from tests.fakes import FakeTumorClassifier


def shown_png(user: User, marker: str) -> bytes:
    source = user.find(kind=ui.image, marker=marker).elements.pop().source
    prefix = "data:image/png;base64,"
    assert source.startswith(prefix)
    return base64.b64decode(source[len(prefix) :])


async def changed(user: User, marker: str, before: bytes) -> bytes:
    """The image's PNG once the page's handler has replaced it (within about a second)."""
    for _ in range(50):
        if (now := shown_png(user, marker)) != before:
            return now
        await asyncio.sleep(0.02)
    raise AssertionError(f"the {marker} image did not change")


async def open_detail(user: User, core: FakeCore, level: int) -> bytes:
    """Sign in, store one analysis at `level`, open its page; the stored PNG's bytes."""
    me = await core.account("lena@example.org")
    stored = await core.stored(me, "case.png", level=level)
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open(f"/analysis/{stored.id}")
    await user.should_see("Analysis of case.png")
    return core.images.blobs[stored.image_sha256]


async def test_outline_toggle_draws_the_lesion_on_the_image(user: User, core: FakeCore) -> None:
    original = await open_detail(user, core, level=230)
    await user.should_see("Lesion outlined: 6.2 % of the analysed area")
    assert shown_png(user, "original") == original

    user.find(marker="outline-toggle").click()
    outlined = await changed(user, "original", original)
    assert outlined.startswith(b"\x89PNG")
    assert b"lesion " in outlined  # drawn by the (fake) lesion renderer
    box = next(iter(core.db.predictions.values())).lesion.bbox  # type: ignore[union-attr]
    assert f"{box.x},{box.y} {box.width}x{box.height}".encode() in outlined

    user.find(marker="outline-toggle").click()
    assert await changed(user, "original", outlined) == original


async def test_no_lesion_is_said_and_offers_no_outline(user: User, core: FakeCore) -> None:
    await open_detail(user, core, level=20)
    await user.should_see("The model outlined no lesion")
    await user.should_not_see(marker="outline-toggle")


async def test_a_model_without_lesion_output_shows_nothing_of_it(
    user: User, core: FakeCore
) -> None:
    core.container.classifier.override(providers.Object(FakeTumorClassifier(lesion=False)))
    await open_detail(user, core, level=230)
    await user.should_not_see(marker="lesion-area")
    await user.should_not_see(marker="outline-toggle")
    await user.should_see(marker="heatmap-toggle")


async def test_the_heatmap_comes_with_its_colour_legend(user: User, core: FakeCore) -> None:
    await open_detail(user, core, level=180)
    await user.should_not_see(marker="heatmap-legend")
    user.find(marker="heatmap-toggle").click()
    await user.should_see(marker="overlay", retries=20)
    await user.should_see(marker="heatmap-legend")
    legend = user.find(marker="heatmap-legend").elements.pop()
    assert "linear-gradient(to right, rgb(68, 1, 84)" in legend.style["background"]
    assert legend.props["aria-label"] == "Heatmap colours: low attention → high attention"
    await user.should_see("low attention")
    await user.should_see("high attention")


async def test_the_lesion_is_said_in_french(user: User, core: FakeCore) -> None:
    user.http_client.headers["accept-language"] = "fr-FR,fr;q=0.9"
    me = await core.account("zoe@example.org")
    stored = await core.stored(me, "cas.png", level=230)
    await sign_in(user, me.email)
    await user.should_see("Analyser des images échographiques")
    await user.open(f"/analysis/{stored.id}")
    await user.should_see("Lésion délimitée : 6,2 % de la zone analysée")
    await user.should_see("Afficher le contour de la lésion")
