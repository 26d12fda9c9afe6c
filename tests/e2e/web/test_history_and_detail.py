"""History (filters, pagination, export), analysis detail (review, delete)."""

from __future__ import annotations

import asyncio
import csv
import io

from nicegui import ui
from nicegui.testing import User

from domain.outcomes import BiRads, OutcomeSource, PathologyResult
from domain.predictions import Verdict
from domain.users import Role
from tests.e2e.web.conftest import FakeCore, sign_in


def table_rows(user: User) -> list[dict[str, str]]:
    return list(user.find(kind=ui.table, marker="history-table").elements.pop().rows)


async def shows_files(user: User, expected: list[str]) -> None:
    """Wait until the table lists exactly these file names, in this order."""
    for _ in range(50):
        if [r["filename"] for r in table_rows(user)] == expected:
            return
        await asyncio.sleep(0.02)
    assert [r["filename"] for r in table_rows(user)] == expected


async def test_newest_first_paginated_and_owner_scoped(user: User, core: FakeCore) -> None:
    me = await core.account("me@example.org")
    other = await core.account("other@example.org")
    for i in range(7):
        core.clock.advance(minutes=1)
        await core.stored(me, f"mine-{i}.png", level=30)
    await core.stored(other, "theirs.png", level=30)

    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/history")
    await user.should_see("Page 1 of 2 (7 analyses)")
    assert [r["filename"] for r in table_rows(user)] == [f"mine-{i}.png" for i in (6, 5, 4, 3, 2)]
    assert "owner" not in {c["name"] for c in user.find(kind=ui.table).elements.pop().columns}

    user.find(marker="next-page").click()
    await user.should_see("Page 2 of 2 (7 analyses)")
    await shows_files(user, ["mine-1.png", "mine-0.png"])


async def test_filters_and_export(user: User, core: FakeCore) -> None:
    me = await core.account("me@example.org")
    bright = await core.stored(me, "left-breast.png", level=240)
    await core.stored(me, "right-breast.png", level=10)
    await core.stored(me, "other.png", level=250)
    core.clock.advance(days=2)
    await core.stored(me, "later.png", level=250)
    await core.review_prediction()(  # type: ignore[operator]
        _review(me, bright.id)
    )

    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/history")
    await user.should_see("Page 1 of 1 (4 analyses)")

    user.find(marker="filter-label").elements.pop().value = "malignant"
    user.find(marker="apply-filters").click()
    await user.should_see("Page 1 of 1 (3 analyses)")

    user.find(marker="filter-search").type("breast")
    user.find(marker="apply-filters").click()
    await shows_files(user, ["left-breast.png"])
    await user.should_see("Page 1 of 1 (1 analyses)")
    assert table_rows(user)[0]["reviewed"] == "Agrees"
    assert table_rows(user)[0]["band"] == "High"  # 240/255 = 94.1 %, under the 95 % cut

    user.find(marker="filter-search").clear()
    user.find(marker="filter-label").elements.pop().value = ""
    user.find(marker="filter-reviewed").elements.pop().value = "no"
    day = core.clock.now().date().isoformat()
    picker = user.find(kind=ui.date, marker="filter-from-picker").elements.pop()
    picker.value = day  # chosen on the calendar, it fills the field
    assert user.find(kind=ui.input, marker="filter-from").elements.pop().value == day
    user.find(marker="filter-to").type(day)
    user.find(marker="apply-filters").click()
    await shows_files(user, ["later.png"])

    user.find(marker="export").click()
    response = await user.download.next()
    exported = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["filename"] for row in exported] == ["later.png"]

    user.find(marker="filter-to").type("x")
    user.find(marker="apply-filters").click()
    await user.should_see("Dates must look like 2025-01-31.")


async def test_band_filter_takes_several_bands_and_drives_the_export(
    user: User, core: FakeCore
) -> None:
    me = await core.account("me@example.org")
    for name, level in (("high.png", 240), ("low.png", 10), ("very-high.png", 250)):
        core.clock.advance(minutes=1)  # 94.1 %: high, 3.9 %: low, 98 %: very high
        await core.stored(me, name, level=level)
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/history")
    await user.should_see("Page 1 of 1 (3 analyses)")

    band = user.find(kind=ui.select, marker="filter-band").elements.pop()
    assert band.options == {
        "very_low": "Very low",
        "low": "Low",
        "intermediate": "Intermediate",
        "high": "High",
        "very_high": "Very high",
    }
    band.value = ["high", "very_high"]
    user.find(marker="apply-filters").click()
    await shows_files(user, ["very-high.png", "high.png"])
    user.find(marker="export").click()
    exported = list(csv.DictReader(io.StringIO((await user.download.next()).text)))
    assert [row["band"] for row in exported] == ["very_high", "high"]

    band.value = ["low"]
    user.find(marker="apply-filters").click()
    await shows_files(user, ["low.png"])
    band.value = None  # cleared: any band
    user.find(marker="apply-filters").click()
    await shows_files(user, ["very-high.png", "low.png", "high.png"])


async def test_admin_sees_everyones_analyses_with_owner(user: User, core: FakeCore) -> None:
    admin = await core.account("root@example.org", Role.ADMIN)
    clinician = await core.account("doc@example.org")
    await core.stored(clinician, "a.png", level=100)
    await sign_in(user, admin.email)
    await user.should_see("Analyze ultrasound images")
    await user.open("/history")
    await user.should_see("Page 1 of 1 (1 analyses)")
    assert table_rows(user)[0]["owner"] == "doc@example.org"


async def test_review_then_delete(user: User, core: FakeCore) -> None:
    me = await core.account("me@example.org")
    stored = await core.stored(me, "case.png", level=200)
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open(f"/analysis/{stored.id}")
    await user.should_see("Analysis of case.png")
    await user.should_see("Not reviewed")

    user.find(marker="save-review").click()
    await user.should_see(marker="verdict-error")
    await user.should_see("Choose agree or disagree first.")
    user.find(kind=ui.radio, marker="verdict").elements.pop().value = "disagree"
    user.find(kind=ui.select, marker="birads").elements.pop().value = "3"
    user.find(marker="note").type("Cyst on second look.")
    user.find(marker="save-review").click()
    await user.should_see("Current review: Disagrees")
    await user.should_see("Review saved.")
    await user.should_not_see("Choose agree or disagree first.")
    facts = [label.text for label in user.find(kind=ui.label, marker="fact").elements]
    assert "3" in facts  # the page shows what was stored, without a reload
    review = core.db.predictions[stored.id].review
    assert review is not None
    assert review.verdict is Verdict.DISAGREE
    assert review.birads is BiRads.PROBABLY_BENIGN
    assert review.note == "Cyst on second look."
    assert core.db.predictions[stored.id].p_malignant == stored.p_malignant

    user.find(marker="delete").click()
    await user.should_see("Delete this analysis and its image? This cannot be undone.")
    user.find(marker="confirm-delete").click()
    await user.should_see("Analysis deleted.")
    assert stored.id not in core.db.predictions
    await user.should_see(marker="history-empty")


async def test_outcome_is_recorded_with_inline_errors(user: User, core: FakeCore) -> None:
    me = await core.account("me@example.org")
    stored = await core.stored(me, "lump.png", level=230)
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open(f"/analysis/{stored.id}")
    await user.should_see("Pathology outcome")

    user.find(marker="save-outcome").click()
    await user.should_see("Choose benign or malignant first.")
    user.find(kind=ui.radio, marker="outcome-result").elements.pop().value = "malignant"
    date_field = user.find(kind=ui.input, marker="outcome-date").elements.pop()
    date_field.value = "31/01/2025"
    user.find(marker="save-outcome").click()
    await user.should_not_see("Choose benign or malignant first.")
    assert date_field.error == "Dates must look like 2025-01-31."
    assert core.db.predictions[stored.id].outcome is None

    day = core.clock.now().date()
    user.find(kind=ui.input, marker="outcome-date").elements.pop().value = day.isoformat()
    user.find(kind=ui.input, marker="histology").elements.pop().value = "Invasive ductal carcinoma"
    user.find(marker="save-outcome").click()
    await user.should_see(f"Recorded: Malignant (Biopsy, {day.isoformat()})")
    await user.should_see("Outcome saved.")
    outcome = core.db.predictions[stored.id].outcome
    assert outcome is not None
    assert outcome.result is PathologyResult.MALIGNANT
    assert outcome.source is OutcomeSource.BIOPSY
    assert outcome.histology == "Invasive ductal carcinoma"

    user.find(marker="withdraw-outcome").click()
    await user.should_not_see(marker="current-outcome")
    assert core.db.predictions[stored.id].outcome is None


async def test_someone_elses_analysis_is_not_found(user: User, core: FakeCore) -> None:
    other = await core.account("other@example.org")
    theirs = await core.stored(other, "theirs.png", level=100)
    await core.account("me@example.org")
    await sign_in(user, "me@example.org")
    await user.should_see("Analyze ultrasound images")
    await user.open(f"/analysis/{theirs.id}")
    await user.should_see("Not found: it may have been deleted.")
    await user.should_not_see("theirs.png")


def _review(actor, prediction_id):  # type: ignore[no-untyped-def]
    from application.commands import ReviewPrediction

    return ReviewPrediction(actor=actor, prediction_id=prediction_id, verdict=Verdict.AGREE)
