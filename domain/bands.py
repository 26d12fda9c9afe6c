"""Likelihood bands: the calibrated probability put into words a clinician can act on.

One vocabulary everywhere (API `band`, CSV, CLI, UI): the five `BandName` values. A model
states its cut-points in its metadata (`likelihood_bands`, from model 2.0) with what each band
held in validation; a model without them gets `FALLBACK_BANDS`, cut at the BI-RADS likelihood
ranges (2 %, 10 %, 50 %, 95 %: BI-RADS 3 / 4A / 4B / 4C / 5), with no observed rates.
`borderline` marks a probability within the calibration uncertainty of the decision threshold.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Any


class BandName(StrEnum):
    VERY_LOW = "very_low"
    LOW = "low"
    INTERMEDIATE = "intermediate"
    HIGH = "high"
    VERY_HIGH = "very_high"


_WORDS = {
    BandName.VERY_LOW: "Very low",
    BandName.LOW: "Low",
    BandName.INTERMEDIATE: "Intermediate",
    BandName.HIGH: "High",
    BandName.VERY_HIGH: "Very high",
}

FALLBACK_CUTS = (0.02, 0.10, 0.50, 0.95)
# Used when the model states no calibration error (ECE) for any validation source.
DEFAULT_BORDERLINE_MARGIN = 0.05
BORDERLINE_WORDING = "Borderline: close to the decision threshold"


def _percent(value: float) -> str:
    return f"{round(value * 100, 1):g} %"


@dataclass(frozen=True, slots=True)
class Band:
    """[lower, upper) on the calibrated probability (the last band includes 1)."""

    name: BandName
    lower: float
    upper: float
    # Share of malignant images among the validation images in this band, and how many.
    observed_rate: float | None = None
    observed_count: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.lower < self.upper <= 1.0:
            raise ValueError(f"band {self.name}: need 0 <= lower < upper <= 1")
        if self.observed_rate is not None and not 0.0 <= self.observed_rate <= 1.0:
            raise ValueError(f"band {self.name}: observed rate outside [0, 1]")

    @property
    def range_text(self) -> str:
        if self.lower == 0.0:
            return f"<{_percent(self.upper)}"
        if self.upper == 1.0:
            return f"≥{_percent(self.lower)}"
        return f"{_percent(self.lower)} to {_percent(self.upper)}"

    @property
    def wording(self) -> str:
        """E.g. "Very low likelihood of malignancy (<2 %)": a likelihood, never a diagnosis."""
        return f"{_WORDS[self.name]} likelihood of malignancy ({self.range_text})"


def bands_from_cuts(cuts: tuple[float, ...]) -> tuple[Band, ...]:
    edges = (0.0, *cuts, 1.0)
    if len(edges) - 1 != len(BandName):
        raise ValueError(f"need {len(BandName) - 1} cut-points, got {len(cuts)}")
    return tuple(
        Band(name, lower, upper)
        for name, (lower, upper) in zip(BandName, pairwise(edges), strict=True)
    )


FALLBACK_BANDS = bands_from_cuts(FALLBACK_CUTS)


def _band_name(raw: object) -> BandName:
    return BandName(str(raw).strip().lower().replace(" ", "_").replace("-", "_"))


def parse_bands(raw: str) -> tuple[Band, ...]:
    """The metadata's `likelihood_bands` JSON; ValueError unless it is the five bands in
    order, contiguous from 0 to 1 ("very low" and "very_low" both name the first)."""
    try:
        items: Any = json.loads(raw)
        bands = tuple(
            Band(
                name=_band_name(item["name"]),
                lower=float(item["lower"]),
                upper=float(item["upper"]),
                observed_rate=(
                    None if item.get("malignancy_rate") is None else float(item["malignancy_rate"])
                ),
                observed_count=None if item.get("n_val") is None else int(item["n_val"]),
            )
            for item in items
        )
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise ValueError(f"likelihood_bands is not a list of valid bands: {exc}") from exc
    if tuple(b.name for b in bands) != tuple(BandName):
        raise ValueError(f"likelihood_bands must name {[n.value for n in BandName]} in order")
    edges_meet = all(a.upper == b.lower for a, b in pairwise(bands))
    if bands[0].lower != 0.0 or bands[-1].upper != 1.0 or not edges_meet:
        raise ValueError("likelihood_bands must cover [0, 1] without gaps or overlaps")
    return bands


def bands_from_metadata(metadata: Mapping[str, str]) -> tuple[Band, ...]:
    """The model's own bands, or FALLBACK_BANDS when it states none."""
    raw = metadata.get("likelihood_bands")
    return FALLBACK_BANDS if raw is None else parse_bands(raw)


def borderline_margin_from_metadata(metadata: Mapping[str, str]) -> float:
    """The calibration uncertainty: the largest expected calibration error (ECE) over the
    validation sources the model reports, else DEFAULT_BORDERLINE_MARGIN."""
    try:
        sources = json.loads(metadata.get("validation_metrics", "{}"))
        errors = [float(m["ece"]) for m in sources.values() if m.get("ece") is not None]
    except (TypeError, ValueError, AttributeError):
        return DEFAULT_BORDERLINE_MARGIN
    errors = [e for e in errors if math.isfinite(e) and 0.0 < e < 0.5]
    return max(errors) if errors else DEFAULT_BORDERLINE_MARGIN


def band_for(p_malignant: float, bands: tuple[Band, ...]) -> Band:
    """The band holding p (bands cover [0, 1], the last one closed)."""
    for band in bands[:-1]:
        if p_malignant < band.upper:
            return band
    return bands[-1]


@dataclass(frozen=True, slots=True)
class Likelihood:
    """Where one probability falls: its band and whether it is close to the threshold."""

    band: BandName
    borderline: bool

    @property
    def wording(self) -> str:
        return f"{_WORDS[self.band]} likelihood of malignancy"


def likelihood_of(
    p_malignant: float,
    threshold: float,
    bands: tuple[Band, ...] = FALLBACK_BANDS,
    margin: float = DEFAULT_BORDERLINE_MARGIN,
) -> Likelihood:
    return Likelihood(
        band=band_for(p_malignant, bands).name,
        borderline=abs(p_malignant - threshold) <= margin,
    )
