"""/api/studies end to end: open, upload with positions, DICOM filing, lesions, priors, search,
corrections, ownership and bad input."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests import dicom_samples
from tests.e2e.http.conftest import Account, Api
from tests.e2e.http.images import bright, dark, flat

pytestmark = [pytest.mark.e2e]


def files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (name, data, "application/octet-stream")) for name, data in items]


async def open_study(api: Api, account: Account, **fields: Any) -> dict[str, Any]:
    r = await api.client.post(
        "/api/studies", json={"patient_ref": "MRN-0042", **fields}, headers=account.headers
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def upload(
    api: Api,
    account: Account,
    path: str,
    *items: tuple[str, bytes],
    positions: list[dict[str, Any] | None] | None = None,
) -> Any:
    params = {"positions": json.dumps(positions)} if positions is not None else None
    return await api.client.post(path, files=files(*items), params=params, headers=account.headers)


def dicom(level: int, view: str, *, study_uid: str, patient_id: str = "MRN-0042") -> bytes:
    """A breast ultrasound DICOM (left side) of one flat grey level, which the tiny model reads
    as P(malignant) = level / 255."""
    ds = dicom_samples.base()
    ds.StudyInstanceUID, ds.PatientID = study_uid, patient_id
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SeriesDescription = f"Breast L {view}"
    return dicom_samples.native(np.full((192, 256), level, np.uint8), ds=ds)


async def test_a_study_gets_images_with_positions_and_combines_the_views_of_a_lesion(
    api: Api,
) -> None:
    owner = await api.account()
    study = await open_study(api, owner, accession_number="ACC-1", study_date="2026-03-14")
    assert (study["patient_ref"], study["accession_number"], study["study_date"]) == (
        "MRN-0042",
        "ACC-1",
        "2026-03-14",
    )
    r = await upload(
        api,
        owner,
        f"/api/studies/{study['id']}/images",
        ("radial.png", dark()),
        ("antiradial.png", bright()),
        ("other.png", flat(128)),
        positions=[
            {"laterality": "L", "clock": "10:30", "distance_cm": 2.5, "view": "radial"},
            {"laterality": "L", "clock": "10:30", "view": "antiradial"},
            None,
        ],
    )
    assert r.status_code == 201, r.text
    radial, antiradial, other = (result["prediction"] for result in r.json()["results"])
    assert radial["study_id"] == study["id"]
    assert radial["position"] == {
        "laterality": "L",
        "clock_position": "10:30",
        "distance_from_nipple_cm": 2.5,
        "view": "radial",
        "lesion_number": 1,
    }
    assert other["position"] is None

    detail = (await api.client.get(study["url"], headers=owner.headers)).json()
    assert [image["id"] for image in detail["images"]] == [
        radial["id"],
        antiradial["id"],
        other["id"],
    ]
    [lesion] = detail["lesions"]
    assert lesion["laterality"] == "L"
    assert lesion["prediction_ids"] == [radial["id"], antiradial["id"]]
    assert lesion["driving_prediction_id"] == antiradial["id"]
    assert lesion["probability"] == pytest.approx(antiradial["probability"])
    assert lesion["label"] == "malignant"
    assert lesion["band"] in {"very_low", "low", "intermediate", "high", "very_high"}
    assert detail["priors"] == []
    one = await api.client.get(f"/api/predictions/{radial['id']}", headers=owner.headers)
    assert one.json()["study_id"] == study["id"]


async def test_loose_uploads_stay_unfiled(api: Api, alice: Account) -> None:
    r = await api.client.post(
        "/api/predictions", files=files(("a.png", dark())), headers=alice.headers
    )
    assert r.status_code == 201, r.text
    prediction = r.json()["results"][0]["prediction"]
    assert (prediction["study_id"], prediction["position"]) == (None, None)


async def test_dicom_files_open_their_study_from_the_tags(api: Api) -> None:
    owner = await api.account()
    uid = generate_uid()
    r = await upload(
        api,
        owner,
        "/api/studies/images",
        ("radial.dcm", dicom(40, "radial", study_uid=uid)),
        ("antiradial.dcm", dicom(200, "antiradial", study_uid=uid)),
        ("photo.png", dark()),
    )
    assert r.status_code == 207, r.text
    first, second, photo = r.json()["results"]
    assert photo["error"]["code"] == "image_needs_study"
    assert first["prediction"]["study_id"] == second["prediction"]["study_id"]
    assert first["prediction"]["position"]["view"] == "radial"
    assert second["prediction"]["position"]["view"] == "antiradial"

    listed = await api.client.get("/api/studies", headers=owner.headers)
    [summary] = listed.json()["items"]
    study = summary["study"]
    assert (study["patient_ref"], study["study_instance_uid"], study["study_date"]) == (
        dicom_samples.PATIENT_ID,
        uid,
        "2026-03-14",
    )
    assert study["accession_number"] == dicom_samples.ACCESSION
    assert summary["image_count"] == 2
    detail = (await api.client.get(study["url"], headers=owner.headers)).json()
    [lesion] = detail["lesions"]
    assert lesion["driving_prediction_id"] == second["prediction"]["id"]

    # into the named study: a DICOM of another study is refused, the others stored
    again = await upload(
        api,
        owner,
        f"/api/studies/{study['id']}/images",
        ("same.dcm", dicom(90, "radial", study_uid=uid)),
        ("other.dcm", dicom(90, "radial", study_uid=generate_uid())),
        ("wrong-side.dcm", dicom(90, "radial", study_uid=uid)),
        positions=[None, None, {"laterality": "R"}],
    )
    assert again.status_code == 207, again.text
    codes = [
        result["error"]["code"] if result["error"] else None for result in again.json()["results"]
    ]
    assert codes == [None, "image_other_study", "image_side_mismatch"]


async def test_the_patients_earlier_studies_come_with_their_results(api: Api) -> None:
    owner = await api.account()
    old = await open_study(api, owner, patient_ref="MRN-77", study_date="2025-01-10")
    new = await open_study(api, owner, patient_ref="MRN-77", study_date="2026-01-10")
    await open_study(api, owner, patient_ref="MRN-78", study_date="2024-01-10")
    r = await upload(
        api, owner, f"/api/studies/{old['id']}/images", ("old.png", bright()),
        positions=[{"laterality": "R", "lesion_number": 2}],
    )  # fmt: skip
    assert r.status_code == 201, r.text

    detail = (await api.client.get(new["url"], headers=owner.headers)).json()
    [prior] = detail["priors"]
    assert prior["study"]["id"] == old["id"]
    assert len(prior["images"]) == 1
    assert prior["lesions"][0]["laterality"] == "R"
    assert prior["lesions"][0]["lesion_number"] == 2
    older = (await api.client.get(old["url"], headers=owner.headers)).json()
    assert older["priors"] == []


async def test_search_by_patient_accession_date_band_and_review(api: Api) -> None:
    owner = await api.account()
    a = await open_study(api, owner, patient_ref="P-SEARCH-1", accession_number="X-1",
                         study_date="2026-02-01")  # fmt: skip
    b = await open_study(api, owner, patient_ref="P-SEARCH-2", study_date="2026-02-03")
    r = await upload(
        api, owner, f"/api/studies/{a['id']}/images", ("a.png", bright()),
        positions=[{"laterality": "L"}],
    )  # fmt: skip
    assert r.status_code == 201, r.text
    band = (await api.client.get(a["url"], headers=owner.headers)).json()["lesions"][0]["band"]

    async def ids(**params: Any) -> list[str]:
        r = await api.client.get("/api/studies", params=params, headers=owner.headers)
        assert r.status_code == 200, r.text
        return [item["study"]["id"] for item in r.json()["items"]]

    assert await ids() == [b["id"], a["id"]]
    assert await ids(patient_ref="search-1") == [a["id"]]
    assert await ids(accession="x-") == [a["id"]]
    assert await ids(**{"from": "2026-02-02", "to": "2026-02-03"}) == [b["id"]]
    assert await ids(reviewed="false") == [a["id"]]
    assert await ids(band=band) == [a["id"]]
    assert await ids(reviewed="true") == []


async def test_a_study_can_be_corrected(api: Api) -> None:
    owner = await api.account()
    study = await open_study(api, owner, accession_number="ACC-1")
    r = await api.client.patch(
        study["url"],
        json={"patient_ref": "MRN-0043", "accession_number": "", "study_date": "2026-01-02"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["patient_ref"], changed["accession_number"], changed["study_date"]) == (
        "MRN-0043",
        None,
        "2026-01-02",
    )
    same = await api.client.patch(
        study["url"], json={"patient_ref": "MRN-0043"}, headers=owner.headers
    )
    assert same.status_code == 422
    assert same.json()["code"] == "nothing_to_change"


async def test_someone_elses_study_is_not_found_but_admins_see_it(
    api: Api, alice: Account, bob: Account, admin: Account
) -> None:
    study = await open_study(api, alice)
    url = study["url"]
    for r in (
        await api.client.get(url, headers=bob.headers),
        await api.client.patch(url, json={"patient_ref": "X"}, headers=bob.headers),
        await upload(api, bob, f"{url}/images", ("a.png", dark())),
        await api.client.get(
            "/api/studies/00000000-0000-4000-8000-000000000000", headers=alice.headers
        ),
    ):
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "study_not_found"
    bobs = await api.client.get("/api/studies", headers=bob.headers)
    assert study["id"] not in [item["study"]["id"] for item in bobs.json()["items"]]
    seen = await api.client.get(url, headers=admin.headers)
    assert seen.status_code == 200
    anonymous = await api.client.get(url)
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"patient_ref": "   "}, "patient_ref_invalid"),
        ({"patient_ref": "MRN\u202e1"}, "text_invalid_characters"),
        ({"patient_ref": "MRN-1", "study_instance_uid": "1.02.3"}, "study_uid_invalid"),
    ],
)
async def test_bad_studies_are_refused_with_their_code(
    api: Api, alice: Account, body: dict[str, Any], code: str
) -> None:
    r = await api.client.post("/api/studies", json=body, headers=alice.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code


async def test_malformed_study_bodies_and_queries_are_4xx(api: Api, alice: Account) -> None:
    bodies: list[object] = [
        {"patient_ref": "M" * 65},
        {"patient_ref": "M", "colour": "red"},
        {},
        [],
    ]
    for body in bodies:
        r = await api.client.post("/api/studies", json=body, headers=alice.headers)
        assert 400 <= r.status_code < 500, r.text
    for params in (
        {"band": "purple"},
        {"from": "yesterday"},
        {"from": "2026-02-02", "to": "2026-02-01"},
    ):
        r = await api.client.get("/api/studies", params=params, headers=alice.headers)
        assert 400 <= r.status_code < 500, r.text


@pytest.mark.parametrize(
    ("positions", "code"),
    [
        ([{"laterality": "L", "clock": "13:00"}], "clock_position_invalid"),
        ([{"laterality": "X"}], "laterality_invalid"),
        ([{"laterality": "L", "view": "oblique"}], "view_invalid"),
        ([{"laterality": "L", "distance_cm": -1}], "distance_invalid"),
        ([None, None], "positions_mismatch"),
        ("not json", "invalid_input"),
        ([{"side": "L"}], "invalid_input"),
    ],
)
async def test_bad_positions_are_refused_before_anything_is_stored(
    api: Api, positions: Any, code: str
) -> None:
    owner = await api.account()
    study = await open_study(api, owner)
    raw = positions if isinstance(positions, str) else json.dumps(positions)
    r = await api.client.post(
        f"{study['url']}/images",
        files=files(("a.png", dark())),
        params={"positions": raw},
        headers=owner.headers,
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    detail = (await api.client.get(study["url"], headers=owner.headers)).json()
    assert detail["images"] == []


async def test_deleting_a_study_deletes_its_analyses(api: Api, bob: Account) -> None:
    owner = await api.account()
    study = await open_study(api, owner)
    r = await upload(api, owner, f"{study['url']}/images", ("a.png", flat(77)))
    assert r.status_code == 201, r.text
    prediction = r.json()["results"][0]["prediction"]
    assert (await api.client.delete(study["url"], headers=bob.headers)).status_code == 404
    gone = await api.client.delete(study["url"], headers=owner.headers)
    assert gone.status_code == 204, gone.text
    assert (await api.client.get(study["url"], headers=owner.headers)).status_code == 404
    image = await api.client.get(prediction["image_url"], headers=owner.headers)
    assert image.status_code == 404


async def test_an_image_is_placed_after_its_upload(api: Api, bob: Account) -> None:
    owner = await api.account()
    study = await open_study(api, owner)
    r = await upload(api, owner, f"{study['url']}/images", ("a.png", dark()))
    image = r.json()["results"][0]["prediction"]
    url = f"{study['url']}/images/{image['id']}"
    body = {"position": {"laterality": "R", "clock": "2:30", "view": "longitudinal"}}
    placed = await api.client.patch(url, json=body, headers=owner.headers)
    assert placed.status_code == 200, placed.text
    assert placed.json()["position"]["clock_position"] == "2:30"
    [lesion] = (await api.client.get(study["url"], headers=owner.headers)).json()["lesions"]
    assert lesion["laterality"] == "R"
    cleared = await api.client.patch(url, json={"position": None}, headers=owner.headers)
    assert cleared.json()["position"] is None
    assert (await api.client.patch(url, json=body, headers=bob.headers)).status_code == 404
    bad = await api.client.patch(
        url, json={"position": {"laterality": "R", "clock": "2:15"}}, headers=owner.headers
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "clock_position_invalid"


async def test_the_frame_parameter_picks_the_frame_of_study_uploads(api: Api) -> None:
    owner = await api.account()
    cine = dicom_samples.multi_frame(count=5)  # frame i is the grey level 40 * i + 10

    def analysed(result: dict[str, Any]) -> tuple[int, int, float]:
        p = result["prediction"]
        return p["frame_index"], p["frame_count"], round(p["probability"] * 255)

    filed = await api.client.post(
        "/api/studies/images?frame=3", files=files(("cine.dcm", cine)), headers=owner.headers
    )
    assert filed.status_code == 201, filed.text
    [result] = filed.json()["results"]
    assert analysed(result) == (3, 5, 130)

    url = f"/api/studies/{result['prediction']['study_id']}/images"
    into = await api.client.post(
        f"{url}?frame=1", files=files(("a.dcm", cine), ("b.dcm", cine)), headers=owner.headers
    )
    assert into.status_code == 201, into.text
    assert [analysed(r) for r in into.json()["results"]] == [(1, 5, 50)] * 2
    first = await upload(api, owner, url, ("c.dcm", cine))
    assert analysed(first.json()["results"][0]) == (0, 5, 10)  # no frame: the first

    beyond = await api.client.post(
        f"{url}?frame=5", files=files(("cine.dcm", cine)), headers=owner.headers
    )
    assert beyond.status_code == 422, beyond.text
    assert beyond.json()["results"][0]["error"]["code"] == "dicom_frame_missing"
    negative = await api.client.post(
        "/api/studies/images?frame=-1", files=files(("cine.dcm", cine)), headers=owner.headers
    )
    assert negative.status_code == 400, negative.text
