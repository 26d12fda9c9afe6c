"""Dashboard: KPI cards (each rate with its counts), charts in the band colours with the
threshold drawn, and the real-world performance panel (model and clinicians against outcomes,
with 95 % intervals, and a warning when the sensitivity's lower bound is under the floor)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from application.commands import DescribeModel, GetPerformance, GetStatistics
from application.ports import ModelInfo
from domain.bands import band_for
from domain.performance import DiagnosticStats, Performance, PerformanceGroup, Proportion
from domain.predictions import Statistics
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.formats import decimal, integer, percent
from entrypoints.web.frame import signed_in_page
from entrypoints.web.palette import THRESHOLD_COLOUR, band_colour
from entrypoints.web.state import t
from entrypoints.web.widgets import simple_table

ABOVE_COLOUR, BELOW_COLOUR = "#546e7a", "#cfd8dc"  # threshold sides: not band colours


def share(part: int, whole: int) -> str:
    """'60.0 % (3 of 5)': a rate always with the counts behind it."""
    if not whole:
        return t("dashboard.none_yet")
    return t(
        "dashboard.share", rate=percent(part / whole), part=integer(part), whole=integer(whole)
    )


def kpis(stats: Statistics, performance: Performance | None) -> list[tuple[str, str, str]]:
    """(marker, title, value) for each KPI card."""
    with_outcome = performance.model.cases if performance is not None else 0
    return [
        ("kpi-total", t("dashboard.total"), integer(stats.total)),
        ("kpi-malignant", t("dashboard.malignant_share"), share(stats.malignant, stats.total)),
        ("kpi-reviewed", t("dashboard.reviewed_share"), share(stats.reviewed, stats.total)),
        ("kpi-agreement", t("dashboard.agreement"), share(stats.agreed, stats.reviewed)),
        ("kpi-outcomes", t("dashboard.outcomes"), share(with_outcome, stats.total)),
    ]


def label_chart(stats: Statistics) -> dict[str, Any]:
    return {
        "title": {"text": t("dashboard.labels"), "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "pie",
                "radius": ["35%", "65%"],
                "label": {"formatter": "{b}: {c}"},
                "data": [
                    {
                        "name": t("label.malignant"),
                        "value": stats.malignant,
                        "itemStyle": {"color": ABOVE_COLOUR},
                    },
                    {
                        "name": t("label.benign"),
                        "value": stats.benign,
                        "itemStyle": {"color": BELOW_COLOUR},
                    },
                ],
            }
        ],
    }


def per_day_chart(stats: Statistics) -> dict[str, Any]:
    return {
        "title": {"text": t("dashboard.per_day"), "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "xAxis": {"type": "category", "data": [d.day.isoformat() for d in stats.per_day]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": t("dashboard.total"),
                "type": "bar",
                "data": [d.total for d in stats.per_day],
                "itemStyle": {"color": BELOW_COLOUR},
            },
            {
                "name": t("label.malignant"),
                "type": "bar",
                "data": [d.malignant for d in stats.per_day],
                "itemStyle": {"color": ABOVE_COLOUR},
            },
        ],
    }


def histogram_chart(stats: Statistics, model: ModelInfo) -> dict[str, Any]:
    """Bars in the colour of the band holding each bin's centre, on a probability axis where
    the threshold is drawn exactly where it lies."""
    bins = len(stats.probability_histogram)
    centres = [(i + 0.5) / bins for i in range(bins)]
    data = [
        {"value": [c, count], "itemStyle": {"color": band_colour(band_for(c, model.bands).name)}}
        for c, count in zip(centres, stats.probability_histogram, strict=True)
    ]
    return {
        "title": {"text": t("dashboard.histogram"), "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item"},
        "xAxis": {
            "type": "value",
            "min": 0,
            "max": 1,
            "interval": 1 / bins,
            "axisLabel": {":formatter": "v => Math.round(v * 100) + ' %'"},
        },
        "yAxis": {"type": "value", "minInterval": 1, "name": t("dashboard.count")},
        "series": [
            {
                "type": "bar",
                "barWidth": "90%",
                "data": data,
                "markLine": {
                    "symbol": "none",
                    "lineStyle": {"color": THRESHOLD_COLOUR, "type": "dashed", "width": 2},
                    "label": {
                        "formatter": t("dashboard.threshold_line", t=percent(model.threshold))
                    },
                    "data": [{"xAxis": model.threshold}],
                },
            }
        ],
    }


def band_legend(model: ModelInfo) -> None:
    """The band colours with their words and ranges, the same as on every result."""
    with ui.row().classes("w-full gap-4 items-center").mark("band-legend"):
        for band in model.bands:
            with ui.row().classes("items-center gap-1 no-wrap"):
                ui.element("span").classes("inline-block w-4 h-4 rounded").style(
                    f"background: {band_colour(band.name)}"
                )
                ui.label(
                    f"{t('band.short.' + band.name.value)} "
                    f"({percent(band.lower, 0)}-{percent(band.upper, 0)})"
                ).classes("text-caption")


def interval(value: Proportion) -> str:
    """'90.5 % (95 % CI 71.1-97.3 %; 19/21)', or a dash when there are no cases."""
    if value.value is None:
        return t("performance.no_cases")
    low, high = value.lower or 0.0, value.upper or 0.0
    return t(
        "performance.interval",
        value=percent(value.value),
        low=decimal(low * 100),
        high=decimal(high * 100),
        part=integer(value.successes),
        whole=integer(value.total),
    )


def auc_text(stats: DiagnosticStats) -> str:
    auc = stats.auc
    if auc is None:
        return t("performance.no_auc")
    return t(
        "performance.auc_value",
        value=decimal(auc.value, 3),
        low=decimal(auc.lower, 3),
        high=decimal(auc.upper, 3),
        pos=integer(auc.positives),
        neg=integer(auc.negatives),
    )


def performance_rows(stats: DiagnosticStats, who: str) -> list[dict[str, str]]:
    rows = [
        {"measure": t("performance.sensitivity"), who: interval(stats.sensitivity)},
        {"measure": t("performance.specificity"), who: interval(stats.specificity)},
        {"measure": t("performance.ppv"), who: interval(stats.ppv)},
        {"measure": t("performance.npv"), who: interval(stats.npv)},
    ]
    return [*rows, {"measure": "AUC", who: auc_text(stats)}] if who == "model" else rows


def group_rows(groups: tuple[PerformanceGroup, ...]) -> list[dict[str, str]]:
    return [
        {
            "key": g.key,
            "cases": t(
                "performance.cases", cases=integer(g.model.cases), malignant=g.model.malignant
            ),
            "sensitivity": interval(g.model.sensitivity),
            "specificity": interval(g.model.specificity),
            "auc": auc_text(g.model),
            "warning": "⚠ " + t("performance.below_floor_short") if g.below_floor else "",
        }
        for g in groups
    ]


def performance_panel(result: Performance) -> None:
    """The model and the clinicians' BI-RADS against recorded outcomes."""
    with ui.card().classes("w-full").props("flat bordered").mark("performance"):
        ui.label(t("performance.title")).classes("text-h6")
        ui.label(t("performance.explain")).classes("text-caption")
        if result.model.cases == 0:
            ui.label(t("performance.empty")).mark("performance-empty")
            return
        ui.label(
            t(
                "performance.cases",
                cases=integer(result.model.cases),
                malignant=integer(result.model.malignant),
            )
        ).mark("performance-cases")
        if result.below_floor and result.sensitivity_floor is not None:
            with (
                ui.row()
                .classes("w-full items-center gap-2 p-2 rounded bg-amber-2 text-black no-wrap")
                .props('role="alert"')
                .mark("performance-warning")
            ):
                ui.icon("warning").props('aria-hidden="true"')
                ui.label(
                    t(
                        "performance.below_floor",
                        low=percent(result.model.sensitivity.lower or 0.0),
                        floor=percent(result.sensitivity_floor),
                    )
                )
        model_rows = performance_rows(result.model, "model")
        clinician_rows = {
            r["measure"]: r["clinicians"] for r in performance_rows(result.clinicians, "clinicians")
        }
        rows = [{**r, "clinicians": clinician_rows.get(r["measure"], "—")} for r in model_rows]
        simple_table(
            [
                ("measure", t("performance.measure")),
                ("model", t("performance.model")),
                ("clinicians", t("performance.clinicians")),
            ],
            rows,
            "performance-table",
        )
        group_columns = [
            ("key", ""),
            ("cases", t("performance.col_cases")),
            ("sensitivity", t("performance.sensitivity")),
            ("specificity", t("performance.specificity")),
            ("auc", "AUC"),
            ("warning", ""),
        ]
        for title, groups, marker in (
            (t("performance.by_version"), result.by_model_version, "performance-by-version"),
            (t("performance.by_month"), result.by_month, "performance-by-month"),
        ):
            ui.label(title).classes("text-subtitle2")
            simple_table(group_columns, group_rows(groups), marker)


def register(web: Web) -> None:
    """Add the Dashboard page."""

    @signed_in_page(web, "/dashboard", "dashboard")
    async def dashboard_page(user: User) -> None:
        ui.label(t("dashboard.title")).classes("text-h5")
        with reported():
            stats: Statistics = await web.core.get_statistics()(GetStatistics(actor=user))
            model: ModelInfo = await web.core.describe_model()(DescribeModel())
            performance: Performance = await web.core.get_performance()(GetPerformance(actor=user))
            with ui.row().classes("w-full gap-4"):
                for marker, title, value in kpis(stats, performance):
                    with ui.card().classes("min-w-48 grow").mark(marker):
                        ui.label(title).classes("text-caption")
                        ui.label(value).classes("text-h6").mark(f"{marker}-value")
            band_legend(model)
            with ui.grid(columns=2).classes("w-full gap-4"):
                ui.echart(label_chart(stats)).classes("h-72").mark("chart-labels")
                ui.echart(per_day_chart(stats)).classes("h-72").mark("chart-per-day")
                ui.echart(histogram_chart(stats, model)).classes("h-72 col-span-2").mark(
                    "chart-histogram"
                )
            performance_panel(performance)
