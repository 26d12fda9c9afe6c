"""The Open Inference Protocol (/v2) through NVIDIA's own client, `tritonclient[http]`, against
real servers: `breastscan serve --api-only` and `breastscan serve` (UI and API in one process),
each in a subprocess with the committed model. The numbers must be the in-process adapter's.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from adapters.inference.onnx_classifier import OnnxTumorClassifier
from tests.e2e.http.conftest import JWT_SECRET
from tests.e2e.servers import breastscan_cli, free_port, stop, wait_until_up

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "models" / "breast-cnn.onnx"
PASSWORD = "amber kettle over dunes"
MAX_BATCH = 4
OUTPUTS = ("p_malignant", "cam", "lesion")


@dataclass
class Live:
    url: str  # host:port, as tritonclient takes it
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """A fresh dict each time: tritonclient adds Inference-Header-Content-Length to it."""
        return {"Authorization": f"Bearer {self.token}"}

    def client(self) -> triton.InferenceServerClient:
        return triton.InferenceServerClient(self.url, network_timeout=60)


@pytest.fixture(scope="module", params=["api-only", "ui-and-api"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp(f"oip-{request.param}")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BREASTSCAN_"))}
    env |= {
        "BREASTSCAN_DATA_DIR": str(tmp / "data"),
        "BREASTSCAN_MODEL_PATH": str(MODEL),
        "BREASTSCAN_JWT_SECRET": JWT_SECRET,
        "BREASTSCAN_ARGON2_MEMORY_KIB": "64",
        "BREASTSCAN_ARGON2_TIME_COST": "1",
        "BREASTSCAN_MAX_FILES_PER_REQUEST": str(MAX_BATCH),
        "BREASTSCAN_PORT": str(port),
        "BREASTSCAN_LOG_LEVEL": "error",
        "PYTHONPATH": str(ROOT),
    }
    cli = breastscan_cli()
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True}
    subprocess.run([*cli, "migrate"], **run)  # type: ignore[call-overload]
    create = [*cli, "users", "create", "oip@example.org", "--password-stdin"]
    subprocess.run(create, input=PASSWORD.encode(), **run)  # type: ignore[call-overload]
    serve = [*cli, "serve", "--api-only"] if request.param == "api-only" else [*cli, "serve"]
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(serve, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/v2/health/ready", process, log)
        login = {"email": "oip@example.org", "password": PASSWORD}
        r = httpx.post(f"{base}/api/auth/login", json=login, timeout=10)
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        yield Live(url=f"127.0.0.1:{port}", token=token)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def adapter() -> OnnxTumorClassifier:
    return OnnxTumorClassifier(MODEL)


def images(count: int, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 128, 128, 3), dtype=np.uint8)


def image_input(batch: np.ndarray, *, binary: bool) -> triton.InferInput:
    tensor = triton.InferInput("image", list(batch.shape), "UINT8")
    tensor.set_data_from_numpy(batch, binary_data=binary)
    return tensor


def refusal(call: object) -> InferenceServerException:
    with pytest.raises(InferenceServerException) as raised:
        call()  # type: ignore[operator]
    return raised.value


def test_health_and_metadata(live: Live) -> None:
    client = live.client()
    assert client.is_server_live()
    assert client.is_server_ready()
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    meta = client.get_model_metadata("breast-cnn", headers=live.headers)
    assert meta["versions"] == ["2.0.0"]
    assert meta["inputs"] == [{"name": "image", "datatype": "UINT8", "shape": [-1, 128, 128, 3]}]
    assert [(o["name"], o["datatype"]) for o in meta["outputs"]] == [(n, "FP32") for n in OUTPUTS]
    assert client.get_model_metadata("breast-cnn", "2.0.0", headers=live.headers) == meta
    assert client.is_model_ready("breast-cnn", headers=live.headers)
    assert client.is_model_ready("breast-cnn", "2.0.0", headers=live.headers)


@pytest.mark.parametrize("binary_in", [True, False], ids=["binary-in", "json-in"])
@pytest.mark.parametrize("binary_out", [True, False], ids=["binary-out", "json-out"])
def test_outputs_are_the_in_process_adapters(
    live: Live, adapter: OnnxTumorClassifier, binary_in: bool, binary_out: bool
) -> None:
    batch = images(3)
    asked = [triton.InferRequestedOutput(name, binary_data=binary_out) for name in OUTPUTS]
    result = live.client().infer(
        "breast-cnn", [image_input(batch, binary=binary_in)], outputs=asked, headers=live.headers
    )
    prob, cam, lesion = adapter.run(batch)
    assert lesion is not None
    expected = {"p_malignant": prob, "cam": cam, "lesion": lesion}
    assert result.get_response()["model_version"] == "2.0.0"
    for name in OUTPUTS:
        got = result.as_numpy(name)
        assert got is not None
        assert got.dtype == np.float32
        assert got.shape == expected[name].shape
        np.testing.assert_allclose(got, expected[name], rtol=0, atol=1e-6)
    sent = [o for o in result.get_response()["outputs"] if "parameters" in o]
    assert len(sent) == (3 if binary_out else 0)


def test_every_output_by_default_and_only_those_asked_for(
    live: Live, adapter: OnnxTumorClassifier
) -> None:
    batch = images(1, seed=11)
    client = live.client()
    everything = client.infer("breast-cnn", [image_input(batch, binary=True)], headers=live.headers)
    assert [o["name"] for o in everything.get_response()["outputs"]] == list(OUTPUTS)
    cam_only = client.infer(
        "breast-cnn",
        [image_input(batch, binary=False)],
        model_version="2.0.0",
        outputs=[triton.InferRequestedOutput("cam", binary_data=False)],
        headers=live.headers,
    )
    assert [o["name"] for o in cam_only.get_response()["outputs"]] == ["cam"]
    assert cam_only.as_numpy("p_malignant") is None
    np.testing.assert_allclose(cam_only.as_numpy("cam"), adapter.run(batch)[1], atol=1e-6)


def test_refusals_follow_the_protocol(live: Live) -> None:
    client = live.client()
    one = [image_input(images(1), binary=True)]
    anonymous = refusal(lambda: client.infer("breast-cnn", one))
    assert anonymous.status() == "401"
    assert refusal(lambda: client.get_model_metadata("breast-cnn")).status() == "401"
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert refusal(lambda: client.infer("breast-cnn", one, headers=bad_token)).status() == "401"
    unknown = refusal(lambda: client.get_model_metadata("other", headers=live.headers))
    assert unknown.status() == "404"
    old = refusal(
        lambda: client.infer("breast-cnn", one, model_version="1.0", headers=live.headers)
    )
    assert (old.status(), "1.0" in old.message()) == ("404", True)
    floats = triton.InferInput("image", [1, 128, 128, 3], "FP32")
    floats.set_data_from_numpy(np.zeros((1, 128, 128, 3), np.float32))
    wrong_type = refusal(lambda: client.infer("breast-cnn", [floats], headers=live.headers))
    assert (wrong_type.status(), "UINT8" in wrong_type.message()) == ("400", True)
    small = [image_input(np.zeros((1, 64, 64, 3), np.uint8), binary=True)]
    wrong_shape = refusal(lambda: client.infer("breast-cnn", small, headers=live.headers))
    assert (wrong_shape.status(), "[1,64,64,3]" in wrong_shape.message()) == ("400", True)
    many = [image_input(images(MAX_BATCH + 1), binary=True)]
    too_many = refusal(lambda: client.infer("breast-cnn", many, headers=live.headers))
    assert (too_many.status(), str(MAX_BATCH) in too_many.message()) == ("400", True)
    nothing = triton.InferRequestedOutput("nothing")
    odd = refusal(lambda: client.infer("breast-cnn", one, outputs=[nothing], headers=live.headers))
    assert (odd.status(), "nothing" in odd.message()) == ("400", True)


def test_malformed_bodies_are_400_and_oversized_ones_413(live: Live) -> None:
    url = f"http://{live.url}/v2/models/breast-cnn/infer"
    header = b'{"inputs":[{"name":"image","shape":[1,128,128,3],"datatype":"UINT8",' + (
        b'"parameters":{"binary_data_size":49152}}]}'
    )
    short = {**live.headers, "Inference-Header-Content-Length": str(len(header))}
    r = httpx.post(url, content=header + b"\0" * 100, headers=short, timeout=10)
    assert (r.status_code, r.json()["code"]) == (400, "infer_request_invalid")
    r = httpx.post(url, content=b"{not json", headers=live.headers, timeout=10)
    assert (r.status_code, r.json()["code"]) == (400, "infer_request_invalid")
    assert r.headers["x-request-id"]  # the API's request log and metrics wrap /v2 too
    values = {"name": "image", "shape": [1, 128, 128, 3], "datatype": "UINT8", "data": [7] * 12}
    r = httpx.post(url, json={"inputs": [values]}, headers=live.headers, timeout=10)
    assert (r.status_code, r.json()["code"]) == (400, "tensor_size_invalid")
    huge = b" " * (MAX_BATCH * 128 * 128 * 3 * 6 + 128 * 1024)
    r = httpx.post(url, content=huge, headers=live.headers, timeout=30)
    assert (r.status_code, "error" in r.json()) == (413, True)
