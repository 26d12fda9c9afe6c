"""Dashboard numbers, the model card, the admin page and its guard, the language switch."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from dependency_injector import providers
from nicegui import ui
from nicegui.testing import User

from application.commands import RecordOutcome, ReviewPrediction
from domain.bands import BandName, parse_bands
from domain.outcomes import BiRads, OutcomeSource, PathologyResult
from domain.predictions import Verdict
from domain.users import Role
from entrypoints.web.palette import band_colour
from tests.e2e.web.conftest import FakeCore, sign_in
from tests.fakes import FakeTumorClassifier


async def test_dashboard_numbers_match_the_stored_data(user: User, core: FakeCore) -> None:
    me = await core.account("me@example.org")
    other = await core.account("other@example.org")
    malignant = [await core.stored(me, f"m{i}.png", level=230) for i in range(3)]
    await core.stored(me, "b.png", level=20)
    core.clock.advance(days=1)
    await core.stored(me, "b2.png", level=40)
    await core.stored(other, "not-mine.png", level=250)
    review = core.review_prediction()
    await review(ReviewPrediction(actor=me, prediction_id=malignant[0].id, verdict=Verdict.AGREE))
    await review(
        ReviewPrediction(actor=me, prediction_id=malignant[1].id, verdict=Verdict.DISAGREE)
    )

    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/dashboard")
    await user.should_see("Dashboard")

    def value(marker: str) -> str:
        return user.find(kind=ui.label, marker=f"{marker}-value").elements.pop().text

    assert value("kpi-total") == "5"
    assert value("kpi-malignant") == "60.0 % (3 of 5)"
    assert value("kpi-reviewed") == "40.0 % (2 of 5)"
    assert value("kpi-agreement") == "50.0 % (1 of 2)"
    assert value("kpi-outcomes") == "0.0 % (0 of 5)"

    labels = user.find(kind=ui.echart, marker="chart-labels").elements.pop().options
    assert [d["value"] for d in labels["series"][0]["data"]] == [3, 2]
    per_day = user.find(kind=ui.echart, marker="chart-per-day").elements.pop().options
    assert per_day["series"][0]["data"] == [4, 1]
    assert per_day["series"][1]["data"] == [3, 0]
    histogram = user.find(kind=ui.echart, marker="chart-histogram").elements.pop().options
    bars = histogram["series"][0]["data"]
    assert sum(bar["value"][1] for bar in bars) == 5
    assert bars[9]["value"] == [0.95, 3]
    # one colour per band, the same as on the results; the threshold drawn between bins
    assert bars[9]["itemStyle"]["color"] == band_colour(BandName.VERY_HIGH)
    assert bars[0]["itemStyle"]["color"] == band_colour(BandName.LOW)
    assert histogram["series"][0]["markLine"]["data"] == [{"xAxis": 0.5}]  # the threshold


async def test_performance_panel_counts_outcomes_and_warns(user: User, core: FakeCore) -> None:
    core.container.classifier.override(providers.Object(FakeTumorClassifier(sensitivity_floor=0.9)))
    me = await core.account("me@example.org")
    cases = [("tp", 230, "malignant"), ("fn", 20, "malignant"), ("tn", 20, "benign")]
    for name, level, result in [*cases, ("fp", 230, "benign")]:
        stored = await core.stored(me, f"{name}.png", level=level)
        await core.record_outcome()(
            RecordOutcome(
                actor=me,
                prediction_id=stored.id,
                result=PathologyResult(result),
                source=OutcomeSource.BIOPSY,
                outcome_date=core.clock.now().date(),
            )
        )
        await core.review_prediction()(
            ReviewPrediction(
                actor=me,
                prediction_id=stored.id,
                verdict=Verdict.AGREE,
                birads=BiRads.LOW_SUSPICION if level > 128 else BiRads.BENIGN,
            )
        )
    await core.stored(me, "no-outcome.png", level=100)

    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/dashboard")
    await user.should_see("Real-world performance")
    await user.should_see("4 analyses with an outcome, 2 malignant")
    assert user.find(kind=ui.label, marker="kpi-outcomes-value").elements.pop().text == (
        "80.0 % (4 of 5)"
    )
    await user.should_see(marker="performance-warning")
    await user.should_see("is below the 90.0 % the model was validated for")
    rows = user.find(kind=ui.table, marker="performance-table").elements.pop().rows
    sensitivity = next(r for r in rows if r["measure"] == "Sensitivity")
    assert sensitivity["model"].startswith("50.0 % (95 % CI ")
    assert sensitivity["model"].endswith("; 1/2)")
    assert sensitivity["clinicians"].endswith("; 1/2)")
    auc = next(r for r in rows if r["measure"] == "AUC")
    assert "2 malignant, 2 benign" in auc["model"]
    by_version = user.find(kind=ui.table, marker="performance-by-version").elements.pop().rows
    assert [r["key"] for r in by_version] == ["fake-1"]


async def test_empty_dashboard_says_no_reviews(user: User, core: FakeCore) -> None:
    await core.account("me@example.org")
    await sign_in(user, "me@example.org")
    await user.should_see("Analyze ultrasound images")
    await user.open("/dashboard")
    await user.should_see("none yet")
    await user.should_see("No outcomes recorded yet")


async def test_model_page_shows_the_card(user: User, core: FakeCore) -> None:
    await core.account("me@example.org")
    await sign_in(user, "me@example.org")
    await user.should_see("Analyze ultrasound images")
    await user.open("/model")
    await user.should_see("fake-1")
    await user.should_see("0.500")
    await user.should_see("Intended use")
    await user.should_see(marker="model-card")
    card = user.find(kind=ui.markdown, marker="model-card").elements.pop()
    assert "95% CI 0.85-0.94" in card.content
    rows = user.find(kind=ui.table, marker="model-metadata").elements.pop().rows
    assert {"key": "val_auc", "value": "0.9"} in rows


METADATA = {
    "training_data": json.dumps(
        {
            "train": {"busi": {"n": 546, "malignant": 147}},
            "val": {"busi": {"n": 78, "malignant": 21}},
        }
    ),
    "validation_metrics": json.dumps(
        {
            "busi": {
                "n": 78,
                "auc": 0.9524,
                "auc_ci95": [0.8839, 0.9967],
                "confusion": {"tp": 19, "fp": 12, "tn": 45, "fn": 2},
            }
        }
    ),
}
BANDS = (
    '[{"name": "very low", "lower": 0.0, "upper": 0.02, "n_val": 65, "malignancy_rate": 0.0},'
    '{"name": "low", "lower": 0.02, "upper": 0.1, "n_val": 79, "malignancy_rate": 0.038},'
    '{"name": "intermediate", "lower": 0.1, "upper": 0.5, "n_val": 107, "malignancy_rate": 0.28},'
    '{"name": "high", "lower": 0.5, "upper": 0.95, "n_val": 74, "malignancy_rate": 0.73},'
    '{"name": "very high", "lower": 0.95, "upper": 1.0, "n_val": 21, "malignancy_rate": 1.0}]'
)


def with_model_metadata(core: FakeCore) -> None:
    fake = FakeTumorClassifier()
    model = fake.model
    fake._model = replace(  # a model that states its data, validation and bands
        model, metadata={**model.metadata, **METADATA}, bands=parse_bands(BANDS)
    )
    core.container.classifier.override(providers.Object(fake))


async def test_model_page_speaks_to_clinicians(user: User, core: FakeCore) -> None:
    with_model_metadata(core)
    await core.account("me@example.org")
    await sign_in(user, "me@example.org")
    await user.should_see("Analyze ultrasound images")
    await user.open("/model")
    await user.should_see("Trained on 546 images from BUSI (Cairo, Egypt), 147 of them malignant.")
    rows = user.find(kind=ui.table, marker="validation").elements.pop().rows
    assert rows[0]["auc"] == "0.95 (95 % CI 0.88-1.00)"
    assert rows[0]["sensitivity"].startswith("90.5 % (95 % CI ")
    assert rows[0]["sensitivity"].endswith("(19/21)")
    bands = user.find(kind=ui.table, marker="bands").elements.pop().rows
    assert bands[2]["band"] == "Intermediate likelihood of malignancy"
    assert bands[2]["seen"] == "28.0 % malignant of 107 images"
    await user.should_see("Technical details")


async def test_model_page_in_french(user: User, core: FakeCore) -> None:
    with_model_metadata(core)
    await core.account("me@example.org")
    user.http_client.headers["accept-language"] = "fr-FR,fr;q=0.9"
    await sign_in(user, "me@example.org")
    await user.should_see("Analyser des images échographiques")
    await user.open("/model")
    await user.should_see("À propos du modèle")
    await user.should_see("Entraîné sur 546 images de BUSI (Cairo, Egypt), dont 147 malignes.")
    rows = user.find(kind=ui.table, marker="validation").elements.pop().rows
    assert rows[0]["sensitivity"].startswith("90,5 % (IC 95 % ")
    await user.should_see("Détails techniques")


async def test_admin_page_refuses_a_clinician(user: User, core: FakeCore) -> None:
    await core.account("doc@example.org")
    await sign_in(user, "doc@example.org")
    await user.should_see("Analyze ultrasound images")
    await user.should_not_see(marker="nav-admin")
    await user.open("/admin")
    await user.should_see("Access refused: this page is for administrators.")
    await user.should_not_see(marker="audit-table")


async def test_admin_manages_users_and_reads_the_audit_log(user: User, core: FakeCore) -> None:
    admin = await core.account("root@example.org", Role.ADMIN)
    doc = await core.account("doc@example.org")
    await sign_in(user, admin.email)
    await user.should_see("Analyze ultrasound images")
    user.find(marker="nav-admin").click()
    await user.should_see("Administration")

    with user.scope(marker="user-row doc@example.org"):
        user.find(marker="change-role").click()
    await user.should_see("User updated.")
    assert core.db.users[doc.id].role is Role.ADMIN

    await user.should_see(marker="user-row doc@example.org")
    with user.scope(marker="user-row doc@example.org"):
        user.find(marker="toggle-active").click()
    for _ in range(50):
        if not core.db.users[doc.id].is_active:
            break
        await asyncio.sleep(0.02)
    assert not core.db.users[doc.id].is_active

    user.find(marker="audit-action").type("login.success")
    user.find(marker="audit-apply").click()
    table = user.find(kind=ui.table, marker="audit-table").elements.pop()
    for _ in range(50):
        if table.rows and all(r["action"] == "login.success" for r in table.rows):
            break
        await asyncio.sleep(0.02)
    assert [r["actor"] for r in table.rows] == ["root@example.org"]


async def test_language_defaults_to_the_browser_and_switches(user: User, core: FakeCore) -> None:
    await core.account("me@example.org")
    user.http_client.headers["accept-language"] = "fr-FR,fr;q=0.9,en;q=0.8"
    await user.open("/login")
    await user.should_see("Se connecter")
    await user.should_see("Aide à la décision — pas un diagnostic")

    user.find(marker="language").elements.pop().value = "en"
    await user.should_see("Decision aid — not a diagnosis", retries=20)
    await user.should_see(marker="sign-in")
    await user.should_see("Sign in")
