"""DICOM files through the HTTP API and the CLI: the lesion in mm², a bad file refused alone."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from entrypoints import cli
from tests import dicom_samples as samples
from tests.e2e.http.conftest import Account, Api
from tests.e2e.http.images import block_png
from tests.e2e.http.test_cli import env  # noqa: F401 (the CLI's settings, a fixture)

pytestmark = [pytest.mark.e2e]

# The block image (300 x 200) as an ultrasound frame whose tissue region is the whole frame at
# 0.1 mm a pixel: the block covers 1/16 of the 200 x 200 centre square, i.e. 25 mm².
BLOCK_AREA_MM2 = 200 * 200 / 16 * 0.1 * 0.1


def block_dicom() -> bytes:
    with Image.open(io.BytesIO(block_png())) as picture:
        pixels = np.asarray(picture.convert("L"))
    return samples.with_region(pixels, (0, 0, 299, 199), delta_cm=(0.01, 0.01))


def dicom_files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (name, data, "application/dicom")) for name, data in items]


async def test_a_dicom_batch_stores_the_lesion_in_mm2_and_refuses_the_corrupt_file(
    api: Api, alice: Account
) -> None:
    r = await api.client.post(
        "/api/predictions",
        files=dicom_files(("block.dcm", block_dicom()), ("cut.dcm", samples.truncated())),
        headers=alice.headers,
    )
    assert r.status_code == 207, r.text
    good, bad = r.json()["results"]
    assert good["stored"] is True
    lesion = good["prediction"]["lesion"]
    assert lesion["found"] is True
    assert lesion["area_mm2"] == pytest.approx(BLOCK_AREA_MM2, rel=0.15)
    assert bad["stored"] is False
    assert bad["filename"] == "cut.dcm"
    assert bad["error"]["status_code"] == 422
    assert bad["error"]["code"] == "dicom_corrupt"

    pid = good["prediction"]["id"]
    image = await api.client.get(f"/api/predictions/{pid}/image", headers=alice.headers)
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")  # the analysed frame, for display


async def test_predict_takes_dicom_sent_as_octet_stream_under_any_name(
    api: Api, alice: Account
) -> None:
    data = block_dicom()
    r = await api.client.post(
        "/api/predict",
        files=[("file", ("scan.png", data, "application/octet-stream"))],
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["lesion"]["area_mm2"] == pytest.approx(BLOCK_AREA_MM2, rel=0.15)


async def test_an_unsupported_dicom_compression_is_415(api: Api, alice: Account) -> None:
    r = await api.client.post(
        "/api/predict",
        files=dicom_files(("video.dcm", samples.unsupported_syntax())),
        headers=alice.headers,
    )
    assert r.status_code == 415, r.text
    assert r.json()["code"] == "dicom_syntax_unsupported"
    assert r.json()["params"]["syntax"] == "MPEG2 Main Profile / Main Level"


def test_the_cli_predicts_a_dicom_file(env: dict[str, str], tmp_path: Path, capsys) -> None:  # noqa: F811
    (tmp_path / "block.dcm").write_bytes(block_dicom())
    assert cli.main(["predict", str(tmp_path / "block.dcm"), "--json"]) == cli.EXIT_OK
    [result] = json.loads(capsys.readouterr().out)
    assert result["lesion"]["area_mm2"] == pytest.approx(BLOCK_AREA_MM2, rel=0.15)
