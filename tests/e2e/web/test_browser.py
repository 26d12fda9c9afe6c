"""Real browser: `breastscan serve` (UI at /, API at /api) driven by headless Chromium.

Debian's chromium is driven by the PyPI playwright package (`playwright install` cannot
download browsers here). The server runs as a subprocess on a free loopback port with a
fresh embedded SQLite data directory and the committed model (a tiny stand-in built with
onnx.helper when models/breast-cnn.onnx is absent). Any browser console error, or any request
to a host other than this server, fails the test; the API documentation (Swagger UI from the
vendored assets at /api/schema) is checked the same way.
Screenshots go to $BREASTSCAN_SCREENSHOTS (default: the test's temporary directory).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ci import unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SAMPLE = Path(__file__).parent / "samples" / "busi-val-00-malignant.png"
COMMITTED_MODEL = ROOT / "models" / "breast-cnn.onnx"
EMAIL = "browser@example.org"
BAND_WORDS = re.compile(r"^(Very low|Low|Intermediate|High|Very high) likelihood of malignancy$")
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def model_path(tmp: Path) -> Path:
    if COMMITTED_MODEL.is_file():
        return COMMITTED_MODEL
    from tests.e2e.http.tiny_model import build_tiny_model

    return build_tiny_model(tmp / "tiny.onnx")


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"server did not answer {url}:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: `make browser-deps` (apt: chromium)")
    """`breastscan serve` in a subprocess with its own data directory; yields the base URL."""
    tmp = tmp_path_factory.mktemp("browser-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_"))}
    env |= {
        "BREASTSCAN_DATA_DIR": str(tmp / "data"),
        "BREASTSCAN_DATABASE_URL": "",
        "BREASTSCAN_MODEL_PATH": str(model_path(tmp)),
        "BREASTSCAN_PORT": str(port),
        "BREASTSCAN_HOST": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    script = Path(sys.executable).with_name("breastscan")  # the installed console script
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "entrypoints.cli"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*cli, "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/api/health", process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("BREASTSCAN_SCREENSHOTS", tmp_path / "screenshots"))
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_clinician_journey_in_a_real_browser(
    server: str, shots: Path, record_property: pytest.RecordProperty
) -> None:
    from playwright.sync_api import expect, sync_playwright

    console_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=FLAGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        elsewhere: list[str] = []  # every asset must come from this server (closed networks)
        local = (server, "data:", "blob:" + server)
        page.on("request", lambda r: None if r.url.startswith(local) else elsewhere.append(r.url))
        page.set_default_timeout(30_000)
        try:
            # create an account, then sign in
            page.goto(server + "/register")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Create account").click()
            accepted = page.get_by_text("If this email can be used, its account is ready")
            expect(accepted).to_be_visible()
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_text("Sign in").first.click()  # blur the field: no label mid-animation
            page.wait_for_timeout(300)
            page.screenshot(path=shots / "01-sign-in.png")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("Analyze ultrasound images")).to_be_visible()
            expect(page.get_by_text("Decision aid — not a diagnosis")).to_be_visible()
            # the JWT ("eyJ...") stays on the server: neither in the URL nor in the page
            assert "eyJ" not in page.url
            assert "eyJ" not in page.content()

            # upload a real ultrasound image and wait for its result
            started = time.perf_counter()
            page.locator("input[type=file]").set_input_files(SAMPLE)
            expect(page.get_by_text("Probability of malignancy:")).to_be_visible()
            elapsed = time.perf_counter() - started
            record_property("upload_to_result_seconds", round(elapsed, 3))
            print(f"\nupload -> result in the browser: {elapsed:.2f} s")
            words = page.get_by_text(BAND_WORDS).first  # a band, never "Suspicious for ..."
            expect(words).to_be_visible()
            expect(page.get_by_text("the model's decision threshold").first).to_be_visible()
            page.get_by_role("switch", name="Show heatmap").click()
            expect(page.get_by_alt_text("Model attention (heatmap)")).to_be_visible()
            page.screenshot(path=shots / "02-analyze.png", full_page=True)

            # a file the browser refuses is named with the reason, next to the results
            notes = SAMPLE.parent.parent / "notes.txt"
            notes.write_text("not an image", encoding="utf-8")
            try:
                page.locator("input[type=file]").set_input_files(notes)
            finally:
                notes.unlink()
            refused = "'notes.txt' was not sent: only PNG, JPEG and DICOM files are accepted."
            expect(page.get_by_text(refused)).to_be_visible()

            # the header stays on one line at 768 px
            page.set_viewport_size({"width": 768, "height": 900})
            page.wait_for_timeout(300)
            bar = page.locator(".q-header .row").first
            box = bar.bounding_box()
            assert box is not None
            assert box["height"] < 60, box
            page.screenshot(path=shots / "02b-analyze-768.png")
            page.set_viewport_size({"width": 1280, "height": 900})

            # history, then the detail page and a review
            page.get_by_role("button", name="History").click()
            expect(page.get_by_text("Page 1 of 1 (1 analyses)")).to_be_visible()
            page.screenshot(path=shots / "03-history.png", full_page=True)
            page.get_by_role("button", name="Analyze").click()  # the session's results stay
            expect(page.get_by_text(refused)).to_be_visible()
            expect(page.get_by_text(BAND_WORDS).first).to_be_visible()
            page.get_by_role("button", name="History").click()
            page.get_by_role("link", name=SAMPLE.name).click()
            expect(page.get_by_text(f"Analysis of {SAMPLE.name}")).to_be_visible()
            page.get_by_label("BI-RADS assessment").click()
            page.get_by_role("option", name="4B — moderate suspicion").click()
            page.get_by_text("I agree with the model").click()
            page.get_by_label("Note (optional)").fill("Irregular margins; biopsy booked.")
            page.get_by_role("button", name="Save review").click()
            expect(page.get_by_text("Current review: Agrees")).to_be_visible()
            expect(page.get_by_text("Review saved.")).to_be_visible()
            page.get_by_text("Malignant", exact=True).click()
            page.get_by_role("button", name="Save outcome").click()
            expect(page.get_by_text("Recorded: Malignant (Biopsy, ")).to_be_visible()
            page.screenshot(path=shots / "04-detail.png", full_page=True)

            # dashboard and model card
            page.get_by_role("button", name="Dashboard").click()
            expect(page.get_by_text("Reviewers agreeing with the model")).to_be_visible()
            expect(
                page.get_by_text("1 analyses with an outcome, 1 malignant").first
            ).to_be_visible()
            expect(page.locator(".nicegui-echart canvas").first).to_be_visible()
            page.wait_for_timeout(800)  # let ECharts finish its entry animation
            page.screenshot(path=shots / "05-dashboard.png", full_page=True)
            page.get_by_role("button", name="Model").click()
            expect(page.get_by_text("About the model").first).to_be_visible()
            expect(page.get_by_text("What the bands mean")).to_be_visible()
            page.screenshot(path=shots / "06-model.png", full_page=True)

            # French, then sign out
            page.get_by_role("button", name="FR").click()
            expect(page.get_by_text("Aide à la décision — pas un diagnostic")).to_be_visible()
            page.get_by_role("button", name="Se déconnecter").click()
            expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
        finally:
            browser.close()
    assert not console_errors, f"browser console errors: {console_errors}"
    assert not elsewhere, f"requests left the server: {elsewhere}"


def ultrasound_dicom(view: str, target: Path) -> Path:
    """The sample ultrasound as a left-breast DICOM view of MRN-0042 (tests/dicom_samples)."""
    import numpy as np
    from PIL import Image
    from pydicom.uid import generate_uid

    from tests import dicom_samples

    ds = dicom_samples.base()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SeriesDescription = f"Breast L {view}"
    pixels = np.asarray(Image.open(SAMPLE).convert("L"), dtype=np.uint8)
    if view == "antiradial":
        pixels = np.ascontiguousarray(pixels[:, ::-1])  # another plane of the same lesion
    target.write_bytes(dicom_samples.native(pixels, ds=ds))
    return target


def test_study_journey_from_dicom_to_report(
    server: str, shots: Path, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    """Two DICOM views of one lesion into a study, the combined lesion with band and outline,
    a BI-RADS review, the outcome, the report PDF, and the performance panel counting it."""
    from playwright.sync_api import expect, sync_playwright

    views = [ultrasound_dicom(v, tmp_path / f"{v}.dcm") for v in ("radial", "antiradial")]
    console_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=FLAGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        page.set_default_timeout(30_000)
        try:
            email = "study-" + EMAIL
            page.goto(server + "/register")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Create account").click()
            expect(page.get_by_text("If this email can be used")).to_be_visible()
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("Analyze ultrasound images")).to_be_visible()

            page.get_by_role("button", name="Studies").click()
            page.get_by_label("Patient reference (MRN)").first.fill("MRN-0042")
            page.get_by_label("Accession number").first.fill("ACC-2026-7")
            page.get_by_role("button", name="Create study").click()
            expect(page.get_by_text("Study of MRN-0042")).to_be_visible()

            started = time.perf_counter()
            page.locator("input[type=file]").set_input_files(views)
            expect(page.get_by_text("radial.dcm", exact=True)).to_be_visible()
            expect(page.get_by_text("antiradial.dcm", exact=True)).to_be_visible()
            page.get_by_role("button", name="Analyse into this study").click()
            expect(page.get_by_text("Left breast, lesion 1 (2 view(s))")).to_be_visible()
            expect(page.get_by_text(BAND_WORDS).first).to_be_visible()
            page.screenshot(path=shots / "08-study.png", full_page=True)

            with context.expect_page() as opened:
                page.get_by_role("button", name="Print report").click()
            report_url = opened.value.url
            opened.value.close()
            pdf = page.request.get(report_url)
            elapsed = time.perf_counter() - started
            assert pdf.status == 200
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.body().startswith(b"%PDF")
            record_property("upload_to_report_seconds", round(elapsed, 3))
            print(f"\ntwo DICOM views -> study -> report PDF in the browser: {elapsed:.2f} s")
            (tmp_path / "report.pdf").write_bytes(pdf.body())
            text = subprocess.run(
                ["pdftotext", str(tmp_path / "report.pdf"), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert "MRN-0042" in text
            assert "Decision aid, not a diagnosis" in text

            page.get_by_role("link", name="radial.dcm", exact=True).click()
            expect(page.get_by_text("Analysis of radial.dcm")).to_be_visible()
            expect(page.get_by_text("DICOM: frame 1 of 1 analysed.")).to_be_visible()
            expect(page.get_by_text("Left, Radial")).to_be_visible()  # from the DICOM header
            page.get_by_role("switch", name="Show lesion outline").click()  # its lesion
            outlined = page.get_by_alt_text("Original with the lesion outline").first
            expect(outlined).to_be_visible()
            page.get_by_label("BI-RADS assessment").click()
            page.get_by_role("option", name="4C — high suspicion").click()
            page.get_by_text("I agree with the model").click()
            page.get_by_role("button", name="Save review").click()
            expect(page.get_by_text("Review saved.")).to_be_visible()
            page.get_by_text("Malignant", exact=True).click()
            page.get_by_role("button", name="Save outcome").click()
            expect(page.get_by_text("Recorded: Malignant (Biopsy, ")).to_be_visible()

            page.get_by_role("button", name="Dashboard").click()
            cases = page.get_by_text("1 analyses with an outcome, 1 malignant").first
            expect(cases).to_be_visible()
            page.wait_for_timeout(800)
            page.screenshot(path=shots / "09-performance.png", full_page=True)
        finally:
            browser.close()
    assert not console_errors, f"browser console errors: {console_errors}"


def test_api_documentation_renders_from_local_assets(server: str, shots: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    console_errors: list[str] = []
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=FLAGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        page.on("request", lambda r: requested.append(r.url))
        page.set_default_timeout(30_000)
        try:
            page.goto(server + "/api/schema")
            expect(page.locator(".info .title")).to_contain_text("Breastscan API")
            operations = page.locator(".opblock")
            expect(operations.first).to_be_visible()
            assert operations.count() >= 10, operations.count()
            expect(page.locator(".opblock-summary-path", has_text="/auth/login")).to_be_visible()
            expect(page.get_by_role("button", name="Authorize")).to_be_visible()
            page.wait_for_timeout(300)  # let the tag sections finish expanding
            page.screenshot(path=shots / "07-api-docs.png")
        finally:
            browser.close()
    assert not console_errors, f"browser console errors: {console_errors}"
    elsewhere = [u for u in requested if not u.startswith((server + "/", "data:"))]
    assert not elsewhere, f"requests left the server: {elsewhere}"
    assert server + "/api/schema/openapi.json" in requested


def test_ui_pages_send_security_headers_and_no_server_name(server: str) -> None:
    for path in ("/", "/login"):
        with urllib.request.urlopen(server + path, timeout=10) as response:
            headers = {name.lower(): value for name, value in response.getheaders()}
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "server" not in headers, headers.get("server")
    with urllib.request.urlopen(server + "/api/health", timeout=10) as response:
        assert "server" not in {name.lower() for name, _ in response.getheaders()}
