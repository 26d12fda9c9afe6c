"""The committed model (models/breast-cnn.onnx) served through the API, end to end.

Skipped while the model has not been trained yet; under CI (CI=true) its absence fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import DEFAULT_MODEL_PATH
from tests.ci import unavailable
from tests.e2e.http.conftest import ApiFactory

pytestmark = [pytest.mark.e2e]

SAMPLES = Path(__file__).resolve().parents[1] / "web" / "samples"


@pytest.fixture(scope="module")
def committed_model() -> Path:
    if not DEFAULT_MODEL_PATH.is_file():
        unavailable(f"{DEFAULT_MODEL_PATH} is missing: run `make train` (see ml/README.md)")
    return DEFAULT_MODEL_PATH


async def test_the_committed_model_serves_predictions(
    make_api: ApiFactory, committed_model: Path
) -> None:
    samples = sorted(SAMPLES.glob("*.png"))
    assert samples, f"no sample images in {SAMPLES}"
    async with make_api(model_path=committed_model) as api:
        account = await api.account(admin=True)
        card = (await api.client.get("/api/model", headers=account.headers)).json()
        assert card["metadata"]["model_version"] == card["version"]
        assert 0.0 < card["threshold"] < 1.0
        r = await api.client.post(
            "/api/predictions",
            files=[("file", (p.name, p.read_bytes(), "image/png")) for p in samples],
            headers=account.headers,
        )
        assert r.status_code == 201, r.text
        for result in r.json()["results"]:
            prediction = result["prediction"]
            assert 0.0 <= prediction["probability"] <= 1.0
            assert prediction["model_version"] == card["version"]
            assert prediction["threshold"] == card["threshold"]
            expected = "malignant" if prediction["probability"] >= card["threshold"] else "benign"
            assert prediction["label"] == expected
            heatmap = await api.client.get(prediction["heatmap_url"], headers=account.headers)
            assert heatmap.status_code == 200
        ready = await api.client.get("/api/ready", headers=account.headers)
        assert ready.json()["checks"]["model"]["version"] == card["version"]
