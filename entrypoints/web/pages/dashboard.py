"""Dashboard: KPI cards and charts derived from the stored analyses (ECharts, bundled)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from application.commands import GetStatistics
from domain.predictions import Statistics
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.formats import percent
from entrypoints.web.frame import signed_in_page
from entrypoints.web.state import t


def kpis(stats: Statistics) -> list[tuple[str, str, str]]:
    """(marker, title, value) for each KPI card."""
    reviewed_share = stats.reviewed / stats.total if stats.total else 0.0
    agreement = (
        percent(stats.agreement_rate)
        if stats.agreement_rate is not None
        else t("dashboard.no_reviews")
    )
    return [
        ("kpi-total", t("dashboard.total"), str(stats.total)),
        ("kpi-malignant", t("dashboard.malignant_share"), percent(stats.malignant_share)),
        ("kpi-reviewed", t("dashboard.reviewed_share"), percent(reviewed_share)),
        ("kpi-agreement", t("dashboard.agreement"), agreement),
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
                        "itemStyle": {"color": "#c10015"},
                    },
                    {
                        "name": t("label.benign"),
                        "value": stats.benign,
                        "itemStyle": {"color": "#21ba45"},
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
            {"name": t("dashboard.total"), "type": "bar", "data": [d.total for d in stats.per_day]},
            {
                "name": t("label.malignant"),
                "type": "bar",
                "data": [d.malignant for d in stats.per_day],
            },
        ],
    }


def histogram_chart(stats: Statistics) -> dict[str, Any]:
    bins = len(stats.probability_histogram)
    edges = [f"{i / bins:.1f}-{(i + 1) / bins:.1f}" for i in range(bins)]
    return {
        "title": {"text": t("dashboard.histogram"), "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": edges},
        "yAxis": {"type": "value", "minInterval": 1, "name": t("dashboard.count")},
        "series": [{"type": "bar", "data": list(stats.probability_histogram)}],
    }


def register(web: Web) -> None:
    """Add the Dashboard page."""

    @signed_in_page(web, "/dashboard", "dashboard")
    async def dashboard_page(user: User) -> None:
        ui.label(t("dashboard.title")).classes("text-h5")
        with reported():
            stats: Statistics = await web.core.get_statistics()(GetStatistics(actor=user))
            with ui.row().classes("w-full gap-4"):
                for marker, title, value in kpis(stats):
                    with ui.card().classes("min-w-48 grow").mark(marker):
                        ui.label(title).classes("text-caption")
                        ui.label(value).classes("text-h4").mark(f"{marker}-value")
            with ui.grid(columns=2).classes("w-full gap-4"):
                ui.echart(label_chart(stats)).classes("h-72").mark("chart-labels")
                ui.echart(per_day_chart(stats)).classes("h-72").mark("chart-per-day")
                ui.echart(histogram_chart(stats)).classes("h-72 col-span-2").mark("chart-histogram")
