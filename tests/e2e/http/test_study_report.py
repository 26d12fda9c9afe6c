"""GET /api/studies/{id}/report.pdf end to end: real renderers, the PDF read with pdftotext."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.ci import unavailable
from tests.e2e.http.conftest import Account, Api
from tests.e2e.http.images import block_png, bright, flat

pytestmark = [pytest.mark.e2e]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        unavailable("pdftotext is missing: apt-get install poppler-utils")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


async def study_with_images(
    api: Api, owner: Account
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    r = await api.client.post(
        "/api/studies",
        json={"patient_ref": "MRN-0042", "accession_number": "ACC-77", "study_date": "2026-03-14"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    study = r.json()
    positions = [
        {"laterality": "R", "clock": "10:30", "distance_cm": 2.5, "view": "radial"},
        {"laterality": "R", "clock": "10:30", "view": "antiradial"},
        None,
    ]
    r = await api.client.post(
        f"/api/studies/{study['id']}/images",
        files=[
            ("file", (name, data, "application/octet-stream"))
            for name, data in (
                ("radial.png", block_png()),
                ("antiradial.png", bright()),
                ("loose.png", flat(40)),
            )
        ],
        params={"positions": json.dumps(positions)},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    return study, [result["prediction"] for result in r.json()["results"]]


async def test_the_report_has_what_the_clinic_files(
    api: Api, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    owner = await api.account()
    started = time.perf_counter()
    study, (radial, antiradial, loose) = await study_with_images(api, owner)
    r = await api.client.patch(
        f"/api/predictions/{radial['id']}/review",
        json={"verdict": "disagree", "note": "Cyst on the second view.", "birads": "3"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    r = await api.client.get(f"/api/studies/{study['id']}/report.pdf", headers=owner.headers)
    record_property("upload_to_report_s", round(time.perf_counter() - started, 3))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content, tmp_path)
    for fact in (
        "MRN-0042",
        "ACC-77",
        "2026-03-14",
        "Decision aid, not a diagnosis",
        "Right breast, lesion 1",
        "Combined from 2 view(s)",
        "radial.png",
        "antiradial.png",
        "Radial, 10:30 o'clock, 2.5 cm from the nipple",
        f"{antiradial['probability'] * 100:.1f} %",  # the lesion's result: its brighter view
        f"{radial['probability'] * 100:.1f} %",
        f"{radial['threshold'] * 100:.1f} %",
        radial["model_version"],
        "Lesion outline",
        "Heatmap: where the model looked",
        "3 — probably benign",
        "The reviewer disagrees with the model",
        "Cyst on the second view.",
        "Not reviewed yet",
        "Images without a position",
        "loose.png",
    ):
        assert fact in text, fact
    assert loose["study_id"] == study["id"]


async def test_the_language_is_asked_for_or_taken_from_the_browser(
    api: Api, alice: Account, tmp_path: Path
) -> None:
    study, _ = await study_with_images(api, alice)
    url = f"/api/studies/{study['id']}/report.pdf"
    asked = await api.client.get(url, params={"lang": "fr"}, headers=alice.headers)
    assert "Sein droit, lésion 1" in pdf_text(asked.content, tmp_path)
    browser = {**alice.headers, "Accept-Language": "fr-FR,fr;q=0.9"}
    assert "Aide à la décision" in pdf_text(
        (await api.client.get(url, headers=browser)).content, tmp_path
    )
    plain = await api.client.get(url, headers=alice.headers)
    assert "Breast ultrasound study report" in pdf_text(plain.content, tmp_path)
    bad = await api.client.get(url, params={"lang": "de"}, headers=alice.headers)
    assert bad.status_code in {400, 422}


async def test_only_the_owner_and_admins_get_the_report(
    api: Api, alice: Account, bob: Account, admin: Account
) -> None:
    study, _ = await study_with_images(api, alice)
    url = f"/api/studies/{study['id']}/report.pdf"
    assert (await api.client.get(url)).status_code == 401
    r = await api.client.get(url, headers=bob.headers)
    assert (r.status_code, r.json()["code"]) == (404, "study_not_found")
    assert (await api.client.get(url, headers=admin.headers)).status_code == 200
    audit = await api.client.get(
        "/api/admin/audit", params={"action": "study.report"}, headers=admin.headers
    )
    assert audit.status_code == 200, audit.text
    assert any(entry["target_id"] == study["id"] for entry in audit.json()["items"])
