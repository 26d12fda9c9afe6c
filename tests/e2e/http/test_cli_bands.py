"""`breastscan predict` states each result's likelihood band in the API's vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entrypoints import cli
from tests.e2e.http.images import bright, dark
from tests.e2e.http.test_cli import env  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e]


def test_predict_prints_the_band_and_its_wording(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "white.png").write_bytes(bright())
    (tmp_path / "black.png").write_bytes(dark())
    files = [str(tmp_path / "white.png"), str(tmp_path / "black.png")]
    assert cli.main(["predict", *files, "--json"]) == cli.EXIT_OK
    white, black = json.loads(capsys.readouterr().out)
    assert (white["band"], white["borderline"]) == ("high", False)
    assert black["band"] == "low"
    assert black["band_wording"] == "Low likelihood of malignancy (2 % to 10 %)"
    assert cli.main(["predict", *files]) == cli.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert "malignant, High likelihood of malignancy (50 % to 95 %) (P(malignant)=" in lines[0]
    assert "benign, Low likelihood of malignancy (2 % to 10 %)" in lines[1]
