"""The lesion finding through the HTTP API: in every prediction, as an overlay, in the CSV,
in the model description; and a model without a lesion output (model 1.x) still serving."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.http.conftest import Account, Api, ApiFactory
from tests.e2e.http.images import block_png, dark
from tests.e2e.http.test_predictions import files, store
from tests.e2e.http.tiny_model import LESION_THRESHOLD, build_tiny_model

pytestmark = [pytest.mark.e2e]


def assert_block_found(lesion: dict[str, Any]) -> None:
    assert lesion["found"] is True
    assert lesion["area_fraction"] == pytest.approx(1 / 16, rel=0.1)
    assert lesion["area_mm2"] is None  # a PNG says nothing about pixel size
    assert lesion["max_probability"] == pytest.approx(1.0)
    box = lesion["bbox"]
    for key, expected in zip(("x", "y", "width", "height"), (100, 0, 50, 50), strict=True):
        assert box[key] == pytest.approx(expected, abs=2), key
    assert 3 <= len(lesion["outline"]) <= 64
    for x, y in lesion["outline"]:
        assert 98 <= x <= 152
        assert 0 <= y <= 52


async def test_predict_returns_the_lesion_in_stored_image_pixels(api: Api, alice: Account) -> None:
    r = await api.client.post(
        "/api/predict", files=files(("block.png", block_png())), headers=alice.headers
    )
    assert r.status_code == 200, r.text
    assert_block_found(r.json()["lesion"])


async def test_stored_prediction_carries_the_lesion_and_its_overlay(api: Api) -> None:
    owner = await api.account()
    [stored] = await store(api, owner, ("block.png", block_png()))
    assert_block_found(stored["lesion"])
    pid = stored["id"]
    assert stored["lesion_url"] == f"/api/predictions/{pid}/lesion"
    got = (await api.client.get(f"/api/predictions/{pid}", headers=owner.headers)).json()
    assert got["lesion"] == stored["lesion"]
    listed = (await api.client.get("/api/predictions", headers=owner.headers)).json()
    assert listed["items"][0]["lesion"] == stored["lesion"]

    image = await api.client.get(f"/api/predictions/{pid}/image", headers=owner.headers)
    overlay = await api.client.get(stored["lesion_url"], headers=owner.headers)
    assert overlay.status_code == 200
    assert overlay.headers["content-type"] == "image/png"
    assert "no-store" in overlay.headers["cache-control"]
    assert overlay.content != image.content
    with Image.open(io.BytesIO(overlay.content)) as picture:
        assert picture.size == (300, 200)  # the whole stored image, not the model's crop
        coloured = picture.convert("RGB").getpixel((125, 49))
    assert coloured != (255, 255, 255)  # the outline is drawn along the block's edge


async def test_no_lesion_found_is_said_and_its_overlay_is_404(api: Api) -> None:
    owner = await api.account()
    [stored] = await store(api, owner, ("dark.png", dark()))
    lesion = stored["lesion"]
    assert lesion["found"] is False
    assert (lesion["area_fraction"], lesion["bbox"], lesion["outline"]) == (0.0, None, [])
    assert lesion["max_probability"] < LESION_THRESHOLD
    assert stored["lesion_url"] is None
    r = await api.client.get(f"/api/predictions/{stored['id']}/lesion", headers=owner.headers)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


async def test_the_overlay_follows_the_ownership_rules(
    api: Api, alice: Account, bob: Account, admin: Account
) -> None:
    [mine] = await store(api, alice, ("block.png", block_png()))
    url = f"/api/predictions/{mine['id']}/lesion"
    hidden = await api.client.get(url, headers=bob.headers)
    assert hidden.status_code == 404
    assert hidden.json()["error"] == "not_found"
    assert (await api.client.get(url, headers=admin.headers)).status_code == 200
    assert (await api.client.get(url)).status_code == 401
    await api.client.delete(f"/api/predictions/{mine['id']}", headers=alice.headers)
    assert (await api.client.get(url, headers=alice.headers)).status_code == 404


async def test_csv_export_has_the_lesion_columns(api: Api) -> None:
    owner = await api.account()
    await store(api, owner, ("block.png", block_png()))
    r = await api.client.get("/api/predictions/export.csv", headers=owner.headers)
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert row["lesion_found"] == "true"
    assert float(row["lesion_area_fraction"]) == pytest.approx(1 / 16, rel=0.1)
    assert row["lesion_area_mm2"] == ""
    assert int(row["lesion_bbox_x"]) == pytest.approx(100, abs=2)
    assert int(row["lesion_bbox_width"]) == pytest.approx(50, abs=2)


async def test_model_description_says_it_outlines_lesions(api: Api, alice: Account) -> None:
    body = (await api.client.get("/api/model", headers=alice.headers)).json()
    assert body["has_lesion_output"] is True
    assert body["lesion_threshold"] == LESION_THRESHOLD
    assert body["metadata"]["lesion_threshold"] == str(LESION_THRESHOLD)


async def test_the_openapi_document_describes_the_lesion(api: Api, alice: Account) -> None:
    schema = (await api.client.get("/api/schema/openapi.json")).json()
    operation = schema["paths"]["/predictions/{prediction_id}/lesion"]["get"]
    assert "image/png" in operation["responses"]["200"]["content"]
    assert "404" in operation["responses"]
    lesion = schema["components"]["schemas"]["LesionOut"]
    assert {"found", "area_fraction", "area_mm2", "bbox", "outline"} <= set(lesion["properties"])


async def test_a_model_without_lesion_output_serves_without_findings(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    old_model = build_tiny_model(tmp_path / "no-lesion.onnx", lesion=False)
    async with make_api(model_path=old_model) as api:
        owner = await api.account()
        [stored] = await store(api, owner, ("block.png", block_png()))
        assert (stored["lesion"], stored["lesion_url"]) == (None, None)
        r = await api.client.get(f"/api/predictions/{stored['id']}/lesion", headers=owner.headers)
        assert r.status_code == 404
        analysed = await api.client.post(
            "/api/predict", files=files(("b.png", block_png())), headers=owner.headers
        )
        assert analysed.json()["lesion"] is None
        model = (await api.client.get("/api/model", headers=owner.headers)).json()
        assert (model["has_lesion_output"], model["lesion_threshold"]) == (False, None)
        r = await api.client.get("/api/predictions/export.csv", headers=owner.headers)
        [row] = list(csv.DictReader(io.StringIO(r.text)))
        assert row["lesion_found"] == row["lesion_bbox_x"] == ""
