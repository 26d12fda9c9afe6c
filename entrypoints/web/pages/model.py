"""Model: what a clinician needs to know (what it was trained on, how good it is with 95 %
intervals, what the bands mean, the operating point), then the technical details folded away
(runtime facts, raw metadata, the model card document)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nicegui import ui

from application.commands import DescribeModel
from application.ports import ModelInfo
from domain.performance import wilson
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.formats import decimal, integer, percent
from entrypoints.web.frame import signed_in_page
from entrypoints.web.state import t
from entrypoints.web.widgets import band_words, simple_table

# The card is a long document: keep its headings below the page's own title.
MODEL_CARD_CSS = """
.bs-card h1 { font-size: 1.6rem; line-height: 2.1rem; margin: 0.75rem 0 0.5rem; }
.bs-card h2 { font-size: 1.3rem; line-height: 1.8rem; margin: 0.75rem 0 0.25rem; }
.bs-card h3 { font-size: 1.1rem; line-height: 1.5rem; margin: 0.5rem 0 0.25rem; }
.bs-card table { border-collapse: collapse; margin: 0.5rem 0; }
.bs-card th, .bs-card td { border: 1px solid #ddd; padding: 0.2rem 0.6rem; }
"""
SOURCE_NAMES = {"busi": "BUSI (Cairo, Egypt)", "busbra": "BUS-BRA (Brazil)"}


def _json(metadata: Mapping[str, str], key: str) -> dict[str, Any]:
    """A JSON object from the metadata, or {} when absent or not an object."""
    try:
        value = json.loads(metadata.get(key, "{}"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def source_name(key: str) -> str:
    return SOURCE_NAMES.get(key, key)


def training_lines(metadata: Mapping[str, str]) -> list[str]:
    """One sentence per split and source: how many images, how many malignant."""
    data = _json(metadata, "training_data")
    lines = []
    for split in ("train", "val"):
        for source, counts in (data.get(split) or {}).items():
            if isinstance(counts, dict) and "n" in counts:
                lines.append(
                    t(
                        f"model.data.{split}",
                        source=source_name(source),
                        n=integer(int(counts["n"])),
                        malignant=integer(int(counts.get("malignant", 0))),
                    )
                )
    return lines


def _ci(value: float, low: float, high: float) -> str:
    return t(
        "model.with_ci", value=percent(value), low=decimal(low * 100), high=decimal(high * 100)
    )


def validation_rows(metadata: Mapping[str, str]) -> list[dict[str, str]]:
    """Per validation source: AUC (with its interval), sensitivity and specificity at the
    threshold with Wilson 95 % intervals from the confusion counts."""
    rows = []
    for source, m in _json(metadata, "validation_metrics").items():
        if not isinstance(m, dict):
            continue
        row = {"source": source_name(source), "n": integer(int(m.get("n", 0)))}
        auc, ci = m.get("auc"), m.get("auc_ci95")
        if auc is not None:
            row["auc"] = (
                t(
                    "model.auc_ci",
                    value=decimal(auc, 2),
                    low=decimal(ci[0], 2),
                    high=decimal(ci[1], 2),
                )
                if isinstance(ci, list) and len(ci) == 2
                else decimal(auc, 2)
            )
        confusion = m.get("confusion")
        if isinstance(confusion, dict):
            tp, fn = int(confusion.get("tp", 0)), int(confusion.get("fn", 0))
            tn, fp = int(confusion.get("tn", 0)), int(confusion.get("fp", 0))
            for name, hits, total in (("sensitivity", tp, tp + fn), ("specificity", tn, tn + fp)):
                p = wilson(hits, total)
                if p.value is not None and p.lower is not None and p.upper is not None:
                    row[name] = f"{_ci(p.value, p.lower, p.upper)} ({hits}/{total})"
        rows.append(row)
    return rows


def clinician_summary(info: ModelInfo) -> None:
    """Trained on what, how good, what the bands and the threshold mean."""
    ui.label(t("model.trained_on")).classes("text-h6")
    lines = training_lines(info.metadata)
    for line in lines or [t("model.not_stated")]:
        ui.label(line).classes("text-body2").mark("training-data")

    ui.label(t("model.how_good")).classes("text-h6")
    ui.label(t("model.how_good_hint")).classes("text-caption")
    rows = validation_rows(info.metadata)
    if rows:
        simple_table(
            [
                ("source", t("model.col.source")),
                ("n", t("model.col.n")),
                ("auc", "AUC"),
                ("sensitivity", t("performance.sensitivity")),
                ("specificity", t("performance.specificity")),
            ],
            rows,
            "validation",
        )
    else:
        ui.label(t("model.not_stated")).mark("validation-missing")

    ui.label(t("model.operating_point")).classes("text-h6")
    ui.label(t("model.threshold_means", t=percent(info.threshold))).classes("text-body2").mark(
        "threshold-meaning"
    )
    ui.label(t("model.borderline_means", margin=percent(info.borderline_margin))).classes(
        "text-body2"
    )

    ui.label(t("model.bands")).classes("text-h6")
    ui.label(t("model.bands_hint")).classes("text-caption")
    band_rows = []
    for band in info.bands:
        seen = (
            t(
                "model.band_seen",
                rate=percent(band.observed_rate),
                n=integer(band.observed_count),
            )
            if band.observed_rate is not None and band.observed_count is not None
            else t("model.band_not_seen")
        )
        band_rows.append(
            {
                "band": band_words(band.name),
                "range": f"{percent(band.lower, 0)} - {percent(band.upper, 0)}",
                "seen": seen,
            }
        )
    simple_table(
        [
            ("band", t("model.col.band")),
            ("range", t("model.col.range")),
            ("seen", t("model.col.seen")),
        ],
        band_rows,
        "bands",
    )


def technical_details(web: Web, info: ModelInfo) -> None:
    with ui.expansion(t("model.technical"), icon="engineering").classes("w-full").mark("technical"):
        with ui.card().classes("w-full").props("flat bordered"):
            for name, value in (
                (t("model.version"), info.version),
                (t("model.threshold"), f"{info.threshold:.3f}"),
                (t("model.positive_class"), info.positive_class),
                (t("model.input_size"), f"{info.input_size} x {info.input_size}"),
                (t("model.providers"), ", ".join(info.providers)),
            ):
                with ui.row().classes("w-full no-wrap gap-4"):
                    ui.label(name).classes("w-64 text-caption")
                    ui.label(value).classes("text-body2").mark("model-fact")
        if info.metadata:
            ui.label(t("model.metadata")).classes("text-subtitle1")
            simple_table(
                [("key", t("model.key")), ("value", t("model.value"))],
                [{"key": k, "value": v} for k, v in sorted(info.metadata.items())],
                "model-metadata",
            )
        card = web.options.model_card
        ui.label(t("model.card")).classes("text-subtitle1")
        if card is not None and card.is_file():
            ui.add_css(MODEL_CARD_CSS)
            ui.markdown(card.read_text(encoding="utf-8")).classes("w-full bs-card").mark(
                "model-card"
            )
        else:
            ui.label(t("model.no_card")).mark("model-card-missing")


def register(web: Web) -> None:
    """Add the Model page."""

    @signed_in_page(web, "/model", "model")
    async def model_page(user: User) -> None:
        ui.label(t("model.title")).classes("text-h5")
        ui.label(t("model.intended_use")).classes("text-body1").mark("intended-use")
        with reported():
            info: ModelInfo = await web.core.describe_model()(DescribeModel())
            ui.label(t("model.version_line", version=info.version)).classes("text-body2")
            clinician_summary(info)
            technical_details(web, info)
