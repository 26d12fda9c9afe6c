"""The de-identified DICOM source of an analysis over HTTP, and the frame chosen per request."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pydicom
import pytest

from entrypoints import cli
from tests import dicom_samples as samples
from tests.e2e.http.conftest import Account, Api
from tests.e2e.http.images import block_png
from tests.e2e.http.test_cli import env  # noqa: F401 (the CLI's settings, a fixture)

pytestmark = [pytest.mark.e2e]


def files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (name, data, "application/octet-stream")) for name, data in items]


async def stored(api: Api, account: Account, name: str, data: bytes) -> dict[str, object]:
    r = await api.client.post(
        "/api/predictions", files=files((name, data)), headers=account.headers
    )
    assert r.status_code == 201, r.text
    prediction: dict[str, object] = r.json()["results"][0]["prediction"]
    return prediction


async def test_the_stored_copy_comes_back_de_identified_with_its_uids(
    api: Api, alice: Account, bob: Account, admin: Account
) -> None:
    prediction = await stored(api, alice, "scan.dcm", samples.native(samples.gray()))
    assert prediction["dicom_url"] == f"/api/predictions/{prediction['id']}/dicom"
    assert (prediction["frame_index"], prediction["frame_count"]) == (0, 1)

    r = await api.client.get(str(prediction["dicom_url"]), headers=alice.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/dicom"
    assert r.headers["cache-control"] == "private, no-store"
    assert r.content[128:132] == b"DICM"
    copy = pydicom.dcmread(io.BytesIO(r.content))
    assert not copy.get("PatientName")
    assert not copy.get("PatientID")  # the clinic's MRN stays with the study, not the file
    for value in (*samples.IDENTIFYING.values(), samples.PATIENT_ID, "DOE"):
        assert value.encode() not in r.content, value  # emptied, dummied or removed
    assert (copy.StudyInstanceUID, copy.SeriesInstanceUID, copy.SOPInstanceUID) == (
        samples.STUDY_UID,
        samples.SERIES_UID,
        samples.SOP_UID,
    )
    assert copy.PatientIdentityRemoved == "YES"
    assert copy.pixel_array.shape == (192, 256)

    as_admin = await api.client.get(str(prediction["dicom_url"]), headers=admin.headers)
    assert as_admin.content == r.content
    hidden = await api.client.get(str(prediction["dicom_url"]), headers=bob.headers)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "prediction_not_found")
    anonymous = await api.client.get(str(prediction["dicom_url"]))
    assert anonymous.status_code == 401


async def test_a_png_analysis_has_no_dicom_source(api: Api, alice: Account) -> None:
    prediction = await stored(api, alice, "block.png", block_png())
    assert (prediction["dicom_url"], prediction["frame_index"], prediction["frame_count"]) == (
        None,
        None,
        None,
    )
    r = await api.client.get(f"/api/predictions/{prediction['id']}/dicom", headers=alice.headers)
    assert (r.status_code, r.json()["code"]) == (404, "dicom_not_stored")


async def test_deleting_the_analysis_deletes_its_copy(api: Api, alice: Account) -> None:
    data = samples.multi_frame(count=2)
    prediction = await stored(api, alice, "cine.dcm", data)
    copies = list(api.settings.image_dir.rglob("*.dcm"))
    r = await api.client.get(str(prediction["dicom_url"]), headers=alice.headers)
    stored_copy = [path for path in copies if path.read_bytes() == r.content]
    assert len(stored_copy) == 1
    r = await api.client.delete(f"/api/predictions/{prediction['id']}", headers=alice.headers)
    assert r.status_code == 204
    assert not stored_copy[0].exists()


async def test_the_frame_parameter_picks_the_frame_of_every_file(api: Api, alice: Account) -> None:
    r = await api.client.post(
        "/api/predictions?frame=3",
        files=files(
            ("five.dcm", samples.multi_frame(count=5)), ("two.dcm", samples.multi_frame(2))
        ),
        headers=alice.headers,
    )
    assert r.status_code == 207, r.text
    five, two = r.json()["results"]
    assert (five["prediction"]["frame_index"], five["prediction"]["frame_count"]) == (3, 5)
    assert two["error"]["code"] == "dicom_frame_missing"
    assert two["error"]["params"] == {"filename": "two.dcm", "frame": 3, "count": 2}

    one = await api.client.post(
        "/api/predict?frame=1",
        files=files(("cine.dcm", samples.multi_frame())),
        headers=alice.headers,
    )
    assert one.status_code == 200, one.text
    assert (one.json()["frame_index"], one.json()["frame_count"]) == (1, 5)
    picture = await api.client.post(
        "/api/predict", files=files(("block.png", block_png())), headers=alice.headers
    )
    assert (picture.json()["frame_index"], picture.json()["frame_count"]) == (None, None)


async def test_a_frame_a_still_image_lacks_or_a_negative_frame_is_refused(
    api: Api, alice: Account
) -> None:
    still = await api.client.post(
        "/api/predict?frame=2", files=files(("block.png", block_png())), headers=alice.headers
    )
    assert (still.status_code, still.json()["code"]) == (422, "image_single_frame")
    assert still.json()["params"] == {"filename": "block.png", "frame": 2}
    first = await api.client.post(
        "/api/predict?frame=0", files=files(("block.png", block_png())), headers=alice.headers
    )
    assert first.status_code == 200, first.text
    for bad in ("-1", "x"):
        r = await api.client.post(
            f"/api/predictions?frame={bad}",
            files=files(("cine.dcm", samples.multi_frame())),
            headers=alice.headers,
        )
        assert r.status_code in (400, 422), (bad, r.text)


def test_the_cli_analyses_the_frame_it_is_told(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "cine.dcm").write_bytes(samples.multi_frame(count=4))
    args = ["predict", str(tmp_path / "cine.dcm"), "--frame", "2"]
    assert cli.main([*args, "--json"]) == cli.EXIT_OK
    [result] = json.loads(capsys.readouterr().out)
    assert (result["frame_index"], result["frame_count"]) == (2, 4)
    assert cli.main(args) == cli.EXIT_OK
    assert "frame 2 of 4" in capsys.readouterr().out
    assert cli.main(["predict", str(tmp_path / "cine.dcm"), "--frame", "4"]) != cli.EXIT_OK
    assert "has 4 frames; frame 4 does not exist" in capsys.readouterr().out
