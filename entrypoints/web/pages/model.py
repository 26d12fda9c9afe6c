"""Model: the model card (version, data, metrics, operating point, intended use, limits)."""

from __future__ import annotations

from nicegui import ui

from application.commands import DescribeModel
from application.ports import ModelInfo
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.frame import signed_in_page
from entrypoints.web.state import t

# The card is a long document: keep its headings below the page's own title.
MODEL_CARD_CSS = """
.bs-card h1 { font-size: 1.6rem; line-height: 2.1rem; margin: 0.75rem 0 0.5rem; }
.bs-card h2 { font-size: 1.3rem; line-height: 1.8rem; margin: 0.75rem 0 0.25rem; }
.bs-card h3 { font-size: 1.1rem; line-height: 1.5rem; margin: 0.5rem 0 0.25rem; }
.bs-card table { border-collapse: collapse; margin: 0.5rem 0; }
.bs-card th, .bs-card td { border: 1px solid #ddd; padding: 0.2rem 0.6rem; }
"""


def register(web: Web) -> None:
    """Add the Model page."""

    @signed_in_page(web, "/model", "model")
    async def model_page(user: User) -> None:
        ui.label(t("model.title")).classes("text-h5")
        ui.label(t("model.intended_use")).classes("text-body1").mark("intended-use")
        with reported():
            info: ModelInfo = await web.core.describe_model()(DescribeModel())
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
                ui.label(t("model.metadata")).classes("text-h6")
                ui.table(
                    columns=[
                        {
                            "name": "key",
                            "label": t("model.key"),
                            "field": "key",
                            "align": "left",
                        },
                        {
                            "name": "value",
                            "label": t("model.value"),
                            "field": "value",
                            "align": "left",
                        },
                    ],
                    rows=[{"key": k, "value": v} for k, v in sorted(info.metadata.items())],
                    row_key="key",
                ).props("flat bordered dense wrap-cells").classes("w-full").mark("model-metadata")
        card = web.options.model_card
        ui.label(t("model.card")).classes("text-h6")
        if card is not None and card.is_file():
            ui.add_css(MODEL_CARD_CSS)
            ui.markdown(card.read_text(encoding="utf-8")).classes("w-full bs-card").mark(
                "model-card"
            )
        else:
            ui.label(t("model.no_card")).mark("model-card-missing")
