"""Real-world performance: how the model and the clinicians do against recorded outcomes.

Pure functions over `OutcomePoint`s (one per prediction with an outcome): sensitivity,
specificity, PPV and NPV with Wilson score 95 % intervals, the AUC with a Hanley-McNeil 95 %
interval, overall, per model version and per month of the analysis; the clinicians' BI-RADS
(4A and above = positive) against the same outcomes; and a warning when the sensitivity's
lower bound falls below the sensitivity the model's threshold was validated for.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from domain.outcomes import BiRads

Z95 = 1.959963984540054  # two-sided 95 % normal quantile

_FLOOR = re.compile(r"sensitivity\s*>=\s*([0-9]*\.?[0-9]+)")


def sensitivity_floor_from_metadata(metadata: Mapping[str, str]) -> float | None:
    """The sensitivity the threshold was chosen to reach (`threshold_goal`, e.g. "highest
    threshold with sensitivity >= 0.90 ..."), else the lowest validation sensitivity."""
    found = _FLOOR.search(metadata.get("threshold_goal", ""))
    if found:
        return float(found.group(1))
    try:
        sources = json.loads(metadata.get("validation_metrics", "{}"))
        values = [float(m["sensitivity"]) for m in sources.values() if "sensitivity" in m]
    except (TypeError, ValueError, AttributeError):
        return None
    return min(values) if values else None


@dataclass(frozen=True, slots=True)
class OutcomePoint:
    """One analysed image whose outcome is known: what the model said, what was found."""

    p_malignant: float
    threshold: float
    malignant: bool  # the outcome
    model_version: str
    analysed_on: date  # UTC day of the analysis
    birads: BiRads | None = None  # the reviewer's category, when reviewed with one

    @property
    def model_positive(self) -> bool:
        return self.p_malignant >= self.threshold


@dataclass(frozen=True, slots=True)
class Proportion:
    """successes / total with its Wilson score 95 % interval; value None when total is 0."""

    successes: int
    total: int
    value: float | None
    lower: float | None
    upper: float | None


def wilson(successes: int, total: int, z: float = Z95) -> Proportion:
    """Wilson score interval: sound at small n and at 0 % or 100 %, unlike the Wald one."""
    if not 0 <= successes <= total:
        raise ValueError("need 0 <= successes <= total")
    if total == 0:
        return Proportion(0, 0, None, None, None)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return Proportion(successes, total, p, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class AreaUnderCurve:
    value: float
    lower: float
    upper: float
    positives: int
    negatives: int


def auc_hanley_mcneil(
    positives: Iterable[float], negatives: Iterable[float], z: float = Z95
) -> AreaUnderCurve | None:
    """ROC AUC as the Mann-Whitney statistic (ties count one half) with the Hanley & McNeil
    (1982) standard error; None unless there is at least one case of each class."""
    pos, neg = sorted(positives), sorted(negatives)
    n1, n2 = len(pos), len(neg)
    if n1 == 0 or n2 == 0:
        return None
    wins = 0.0
    for score in pos:  # negatives scored below this positive, and half of those tied
        below = bisect_left(neg, score)
        wins += below + (bisect_right(neg, score) - below) / 2
    a = wins / (n1 * n2)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    variance = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a)) / (n1 * n2)
    half = z * math.sqrt(max(variance, 0.0))
    return AreaUnderCurve(a, max(0.0, a - half), min(1.0, a + half), n1, n2)


@dataclass(frozen=True, slots=True)
class Confusion:
    tp: int
    fp: int
    tn: int
    fn: int

    @classmethod
    def of(cls, pairs: Iterable[tuple[bool, bool]]) -> Confusion:
        """From (called positive, truly malignant) pairs."""
        tp = fp = tn = fn = 0
        for called, truth in pairs:
            tp += called and truth
            fp += called and not truth
            tn += not called and not truth
            fn += not called and truth
        return cls(tp, fp, tn, fn)


@dataclass(frozen=True, slots=True)
class DiagnosticStats:
    """What a positive call is worth against outcomes; AUC None for calls without scores."""

    cases: int
    malignant: int
    confusion: Confusion
    sensitivity: Proportion
    specificity: Proportion
    ppv: Proportion
    npv: Proportion
    auc: AreaUnderCurve | None = None


def diagnostic_stats(
    pairs: Iterable[tuple[bool, bool]], auc: AreaUnderCurve | None = None
) -> DiagnosticStats:
    c = Confusion.of(pairs)
    return DiagnosticStats(
        cases=c.tp + c.fp + c.tn + c.fn,
        malignant=c.tp + c.fn,
        confusion=c,
        sensitivity=wilson(c.tp, c.tp + c.fn),
        specificity=wilson(c.tn, c.tn + c.fp),
        ppv=wilson(c.tp, c.tp + c.fp),
        npv=wilson(c.tn, c.tn + c.fn),
        auc=auc,
    )


def model_stats(points: Iterable[OutcomePoint]) -> DiagnosticStats:
    """The model at each prediction's own threshold, and its AUC on the probabilities."""
    chosen = list(points)
    auc = auc_hanley_mcneil(
        (p.p_malignant for p in chosen if p.malignant),
        (p.p_malignant for p in chosen if not p.malignant),
    )
    return diagnostic_stats(((p.model_positive, p.malignant) for p in chosen), auc)


def clinician_stats(points: Iterable[OutcomePoint]) -> DiagnosticStats:
    """The reviewers' BI-RADS (4A+ positive; 0, 6 and unreviewed left out) vs outcomes."""
    pairs = []
    for point in points:
        positive = point.birads.positive if point.birads else None
        if positive is not None:
            pairs.append((positive, point.malignant))
    return diagnostic_stats(pairs)


@dataclass(frozen=True, slots=True)
class PerformanceGroup:
    key: str  # a model version, or a month "YYYY-MM"
    model: DiagnosticStats
    clinicians: DiagnosticStats
    below_floor: bool


@dataclass(frozen=True, slots=True)
class Performance:
    model: DiagnosticStats
    clinicians: DiagnosticStats
    # the sensitivity the current model was validated for; None when it does not say
    sensitivity_floor: float | None
    below_floor: bool  # the overall sensitivity's lower bound is under the floor
    by_model_version: tuple[PerformanceGroup, ...]
    by_month: tuple[PerformanceGroup, ...]


def below_floor(stats: DiagnosticStats, floor: float | None) -> bool:
    lower = stats.sensitivity.lower
    return floor is not None and lower is not None and lower < floor


def _groups(
    points: list[OutcomePoint], key: Callable[[OutcomePoint], str], floor: float | None
) -> tuple[PerformanceGroup, ...]:
    buckets: dict[str, list[OutcomePoint]] = {}
    for point in points:
        buckets.setdefault(key(point), []).append(point)
    groups = []
    for name in sorted(buckets):
        stats = model_stats(buckets[name])
        groups.append(
            PerformanceGroup(name, stats, clinician_stats(buckets[name]), below_floor(stats, floor))
        )
    return tuple(groups)


def _month(point: OutcomePoint) -> str:
    return f"{point.analysed_on.year:04d}-{point.analysed_on.month:02d}"


def performance(points: Iterable[OutcomePoint], floor: float | None) -> Performance:
    """Every figure of the real-world performance panel from the points with outcomes."""
    chosen = list(points)
    stats = model_stats(chosen)
    return Performance(
        model=stats,
        clinicians=clinician_stats(chosen),
        sensitivity_floor=floor,
        below_floor=below_floor(stats, floor),
        by_model_version=_groups(chosen, lambda p: p.model_version, floor),
        by_month=_groups(chosen, _month, floor),
    )
