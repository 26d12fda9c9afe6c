"""Real-world performance: how the model and the clinicians do against recorded outcomes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

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
