"""Analyse, store, list, filter, export, view, review and delete predictions; ownership."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from PIL import Image

from tests.e2e.http.conftest import Account, Api
from tests.e2e.http.images import bright, dark, flat
from tests.e2e.http.tiny_model import THRESHOLD, VERSION

pytestmark = [pytest.mark.e2e]


def files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (name, data, "application/octet-stream")) for name, data in items]


async def store(api: Api, account: Account, *items: tuple[str, bytes]) -> list[dict[str, Any]]:
    r = await api.client.post("/api/predictions", files=files(*items), headers=account.headers)
    assert r.status_code == 201, r.text
    return [result["prediction"] for result in r.json()["results"]]


async def test_predict_returns_the_analysis_and_stores_nothing(api: Api, alice: Account) -> None:
    r = await api.client.post(
        "/api/predict", files=files(("scan.png", bright())), headers=alice.headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["filename"] == "scan.png"
    assert body["label"] == "malignant"
    assert body["probability"] == pytest.approx(230 / 255, abs=1e-3)
    assert body["confidence"] == pytest.approx(body["probability"])
    assert body["threshold"] == THRESHOLD
    assert body["model_version"] == VERSION
    assert len(body["cam"]) == 4
    assert all(len(row) == 4 for row in body["cam"])
    listed = await api.client.get("/api/predictions", headers=alice.headers)
    assert listed.json()["total"] == 0

    benign = await api.client.post(
        "/api/predict", files=files(("scan.jpg", dark("JPEG"))), headers=alice.headers
    )
    assert benign.json()["label"] == "benign"
    assert benign.json()["confidence"] == pytest.approx(1 - benign.json()["probability"])


async def test_predict_wants_exactly_one_file(api: Api, alice: Account) -> None:
    two = await api.client.post(
        "/api/predict", files=files(("a.png", bright()), ("b.png", dark())), headers=alice.headers
    )
    assert two.status_code == 422
    none = await api.client.post(
        "/api/predict", data={"note": "no file"}, files=[], headers=alice.headers
    )
    assert none.status_code == 422


async def test_an_upright_jpeg_is_served_back_as_jpeg_without_its_metadata(api: Api) -> None:
    owner = await api.account()
    picture = Image.open(io.BytesIO(bright())).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90, comment=b"Patient Doe")
    [stored] = await store(api, owner, ("scan.jpg", buffer.getvalue()))
    image = await api.client.get(f"/api/predictions/{stored['id']}/image", headers=owner.headers)
    assert image.headers["content-type"] == "image/jpeg"
    assert b"Patient Doe" not in image.content
    assert Image.open(io.BytesIO(image.content)).size == picture.size


async def test_store_one_then_read_it_back_with_image_and_heatmap(api: Api) -> None:
    owner = await api.account()
    [stored] = await store(api, owner, ("left breast.png", bright()))
    assert stored["label"] == "malignant"
    assert stored["review"] is None
    assert stored["owner_id"] == owner.id
    pid = stored["id"]

    r = await api.client.get(f"/api/predictions/{pid}", headers=owner.headers)
    assert r.status_code == 200
    assert r.json() == stored

    image = await api.client.get(f"/api/predictions/{pid}/image", headers=owner.headers)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert "no-store" in image.headers["cache-control"]
    assert Image.open(io.BytesIO(image.content)).size == (160, 120)

    heatmap = await api.client.get(
        f"/api/predictions/{pid}/heatmap?opacity=0.8", headers=owner.headers
    )
    assert heatmap.status_code == 200
    assert heatmap.headers["content-type"] == "image/png"
    assert heatmap.content != image.content
    Image.open(io.BytesIO(heatmap.content)).verify()
    bad_opacity = await api.client.get(
        f"/api/predictions/{pid}/heatmap?opacity=2", headers=owner.headers
    )
    assert bad_opacity.status_code == 400


async def test_a_batch_with_a_bad_file_stores_the_good_ones_with_207(api: Api) -> None:
    owner = await api.account()
    r = await api.client.post(
        "/api/predictions",
        files=files(
            ("good.png", bright()), ("notes.png", b"just text" * 10), ("ok.jpg", dark("JPEG"))
        ),
        headers=owner.headers,
    )
    assert r.status_code == 207, r.text
    body = r.json()
    assert (body["stored"], body["failed"]) == (2, 1)
    assert [x["stored"] for x in body["results"]] == [True, False, True]
    assert body["results"][1]["error"]["status_code"] == 415
    assert body["results"][1]["filename"] == "notes.png"
    listed = await api.client.get("/api/predictions", headers=owner.headers)
    assert listed.json()["total"] == 2


async def test_a_batch_where_nothing_is_stored_takes_the_refusal_status(api: Api) -> None:
    owner = await api.account()
    r = await api.client.post(
        "/api/predictions", files=files(("a.png", b"text, not an image")), headers=owner.headers
    )
    assert r.status_code == 415
    assert r.json()["results"][0]["error"]["error"] == "unsupported_image_format"
    assert r.json()["results"][0]["error"]["code"] == "image_format_not_accepted"
    assert r.json()["results"][0]["error"]["params"] == {
        "filename": "a.png",
        "formats": ["PNG", "JPEG", "DICOM"],
    }


async def test_listing_is_paginated_newest_first_and_filtered(api: Api) -> None:
    owner = await api.account()
    first = (await store(api, owner, ("alpha-1.png", bright())))[0]
    second = (await store(api, owner, ("beta-2.png", dark())))[0]
    third = (await store(api, owner, ("alpha-3.png", bright())))[0]

    async def ids(query: str = "") -> list[str]:
        r = await api.client.get(f"/api/predictions?{query}", headers=owner.headers)
        assert r.status_code == 200, r.text
        return [p["id"] for p in r.json()["items"]]

    assert await ids() == [third["id"], second["id"], first["id"]]
    page = await api.client.get("/api/predictions?limit=2&offset=0", headers=owner.headers)
    assert page.json()["total"] == 3
    assert len(page.json()["items"]) == 2
    assert await ids("limit=2&offset=2") == [first["id"]]
    assert await ids("label=malignant") == [third["id"], first["id"]]
    assert await ids("label=benign") == [second["id"]]
    assert await ids("q=ALPHA") == [third["id"], first["id"]]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    today = datetime.now(UTC).date().isoformat()
    assert await ids(f"from={tomorrow}") == []
    assert len(await ids(f"from={today}&to={today}")) == 3
    assert await ids("reviewed=true") == []

    review = await api.client.patch(
        f"/api/predictions/{second['id']}/review",
        json={"verdict": "disagree", "note": "looks suspicious to me"},
        headers=owner.headers,
    )
    assert review.status_code == 200
    assert await ids("reviewed=true") == [second["id"]]
    assert await ids("reviewed=false") == [third["id"], first["id"]]

    for bad in ("limit=0", "limit=500", "offset=-1", "label=maybe", "from=yesterday"):
        r = await api.client.get(f"/api/predictions?{bad}", headers=owner.headers)
        assert r.status_code in (400, 422), bad
        assert "error" in r.json()


async def test_review_records_the_verdict_and_keeps_the_model_output(api: Api) -> None:
    owner = await api.account()
    [stored] = await store(api, owner, ("r.png", dark()))
    r = await api.client.patch(
        f"/api/predictions/{stored['id']}/review",
        json={"verdict": "agree", "note": "benign cyst"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    reviewed = r.json()
    assert reviewed["review"]["verdict"] == "agree"
    assert reviewed["review"]["note"] == "benign cyst"
    assert reviewed["review"]["reviewer_id"] == owner.id
    for key in ("probability", "label", "threshold", "model_version"):
        assert reviewed[key] == stored[key]
    bad = await api.client.patch(
        f"/api/predictions/{stored['id']}/review",
        json={"verdict": "perhaps"},
        headers=owner.headers,
    )
    assert bad.status_code == 400
    too_long = await api.client.patch(
        f"/api/predictions/{stored['id']}/review",
        json={"verdict": "agree", "note": "x" * 2001},
        headers=owner.headers,
    )
    assert too_long.status_code == 400


async def test_delete_removes_the_prediction_and_its_image(api: Api) -> None:
    owner = await api.account()
    [stored] = await store(api, owner, ("gone.png", flat_png(77)))
    pid = stored["id"]
    assert (
        await api.client.delete(f"/api/predictions/{pid}", headers=owner.headers)
    ).status_code == 204
    for suffix in ("", "/image", "/heatmap"):
        r = await api.client.get(f"/api/predictions/{pid}{suffix}", headers=owner.headers)
        assert r.status_code == 404, suffix
    again = await api.client.delete(f"/api/predictions/{pid}", headers=owner.headers)
    assert again.status_code == 404


def flat_png(level: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (140, 100), level).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_other_users_cannot_see_or_touch_a_prediction(
    api: Api, alice: Account, bob: Account
) -> None:
    [mine] = await store(api, alice, ("private.png", bright()))
    pid = mine["id"]
    for method, suffix, body in [
        ("GET", "", None),
        ("GET", "/image", None),
        ("GET", "/heatmap", None),
        ("PATCH", "/review", {"verdict": "agree"}),
        ("DELETE", "", None),
    ]:
        r = await api.client.request(
            method, f"/api/predictions/{pid}{suffix}", json=body, headers=bob.headers
        )
        assert r.status_code == 404, (method, suffix, r.status_code)
        assert r.json()["error"] == "not_found"
    bobs = await api.client.get("/api/predictions", headers=bob.headers)
    assert pid not in [p["id"] for p in bobs.json()["items"]]
    csv_text = (await api.client.get("/api/predictions/export.csv", headers=bob.headers)).text
    assert pid not in csv_text
    still_there = await api.client.get(f"/api/predictions/{pid}", headers=alice.headers)
    assert still_there.status_code == 200
    assert still_there.json()["review"] is None


async def test_an_unknown_id_is_404_and_a_malformed_one_too(api: Api, alice: Account) -> None:
    r = await api.client.get(f"/api/predictions/{uuid4()}", headers=alice.headers)
    assert r.status_code == 404
    r = await api.client.get("/api/predictions/not-a-uuid", headers=alice.headers)
    assert r.status_code == 404


async def test_admins_see_everyone_s_predictions(api: Api, alice: Account, admin: Account) -> None:
    [mine] = await store(api, alice, ("for-admin.png", bright()))
    r = await api.client.get(f"/api/predictions/{mine['id']}", headers=admin.headers)
    assert r.status_code == 200
    listed = await api.client.get("/api/predictions?limit=200", headers=admin.headers)
    assert mine["id"] in [p["id"] for p in listed.json()["items"]]


async def test_csv_export_has_a_header_and_one_row_per_filtered_prediction(api: Api) -> None:
    owner = await api.account()
    await store(api, owner, ("one.png", bright()), ("two, with comma.png", dark()))
    await store(api, owner, ("=HYPERLINK(evil).png", bright()))
    r = await api.client.get("/api/predictions/export.csv", headers=owner.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert len(rows) == 4
    header = [h.lower() for h in rows[0]]
    assert any("filename" in h for h in header)
    names = {row[header.index(next(h for h in header if "filename" in h))] for row in rows[1:]}
    assert "two, with comma.png" in names
    assert not any(name.startswith("=") for name in names), "formula injection neutralised"
    malignant = await api.client.get(
        "/api/predictions/export.csv?label=malignant", headers=owner.headers
    )
    assert len(list(csv.reader(io.StringIO(malignant.text)))) == 3


async def test_listing_and_export_filter_by_one_or_several_bands(api: Api) -> None:
    owner = await api.account()
    await store(api, owner, ("high.png", bright()), ("low.png", dark()))
    await store(api, owner, ("very-high.png", flat(250)))

    async def names(path: str, query: str) -> set[str]:
        r = await api.client.get(f"/api/predictions{path}?{query}", headers=owner.headers)
        assert r.status_code == 200, r.text
        if path:
            return {row["filename"] for row in csv.DictReader(io.StringIO(r.text))}
        return {p["filename"] for p in r.json()["items"]}

    for path in ("", "/export.csv"):
        assert await names(path, "band=low") == {"low.png"}
        assert await names(path, "band=high&band=very_high") == {"high.png", "very-high.png"}
        assert await names(path, "band=intermediate") == set()
        assert len(await names(path, "")) == 3
        r = await api.client.get(
            f"/api/predictions{path}?band=high&band=huge", headers=owner.headers
        )
        assert r.status_code == 400
        refusal = {"message": "Invalid enum value 'huge'", "key": "band", "source": "query"}
        assert r.json()["extra"] == [refusal]


async def test_statistics_follow_the_stored_predictions(api: Api) -> None:
    owner = await api.account()
    empty = await api.client.get("/api/stats", headers=owner.headers)
    assert empty.status_code == 200
    assert empty.json()["total"] == 0
    stored = await store(api, owner, ("a.png", bright()), ("b.png", bright()), ("c.png", dark()))
    await api.client.patch(
        f"/api/predictions/{stored[0]['id']}/review",
        json={"verdict": "agree"},
        headers=owner.headers,
    )
    s = (await api.client.get("/api/stats", headers=owner.headers)).json()
    assert (s["total"], s["malignant"], s["benign"]) == (3, 2, 1)
    assert s["malignant_share"] == pytest.approx(2 / 3)
    assert (s["reviewed"], s["agreed"], s["agreement_rate"]) == (1, 1, 1.0)
    assert sum(s["probability_histogram"]) == 3
    assert s["per_day"][0]["total"] == 3
    only_benign = (await api.client.get("/api/stats?label=benign", headers=owner.headers)).json()
    assert only_benign["total"] == 1


async def test_model_card(api: Api, alice: Account) -> None:
    r = await api.client.get("/api/model", headers=alice.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == VERSION
    assert body["threshold"] == THRESHOLD
    assert body["positive_class"] == "malignant"
    assert body["input_size"] == 128
    assert body["providers"] == ["CPUExecutionProvider"]
    assert body["metadata"]["model_version"] == VERSION
