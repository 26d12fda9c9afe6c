"""Domain rules: emails, passwords, assessments at the threshold, reviews, statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from application.use_cases import load_common_passwords
from domain.errors import ErrorCode, Forbidden, InvalidInput
from domain.predictions import (
    MAX_NOTE_LENGTH,
    Assessment,
    Label,
    Prediction,
    Review,
    Verdict,
    summarise,
)
from domain.text import plain_text
from domain.users import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    Role,
    User,
    check_password_policy,
    normalise_email,
)

pytestmark = pytest.mark.unit

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def make_user(role: Role = Role.CLINICIAN) -> User:
    return User(uuid4(), "a@example.org", "hash", role, True, T0)


def make_prediction(
    p: float,
    *,
    threshold: float = 0.5,
    at: datetime = T0,
    verdict: Verdict | None = None,
    owner: User | None = None,
) -> Prediction:
    owner_id = owner.id if owner else uuid4()
    review = Review(verdict, "", owner_id, at) if verdict else None
    return Prediction(uuid4(), owner_id, "x.png", "0" * 64, p, threshold, "v1", at, review)


# --- email --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alice@Example.ORG", "alice@example.org"),
        ("  bob@clinic.example.com \n", "bob@clinic.example.com"),
        ("c.d+tag@sub.example.co.uk", "c.d+tag@sub.example.co.uk"),
    ],
)
def test_email_is_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "no-at.example.org",
        "a@b",
        "a b@example.org",
        "a@@example.org",
        "x" * 250 + "@example.org",
    ],
)
def test_malformed_email_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_email(raw)


# --- passwords ----------------------------------------------------------------------------

COMMON = load_common_passwords()


def test_common_password_list_is_bundled_and_lower_case() -> None:
    assert len(COMMON) >= 4000
    assert {"password1", "iloveyou", "12345678", "qwertyuiop"} <= COMMON
    assert all(p == p.lower() and len(p) >= PASSWORD_MIN_LENGTH for p in COMMON)
    assert not any(p.startswith("#") for p in COMMON)


def test_password_length_bounds() -> None:
    with pytest.raises(InvalidInput, match="at least"):
        check_password_policy("a" * (PASSWORD_MIN_LENGTH - 1) + "", COMMON)
    check_password_policy("kq7-Zt" + "x" * (PASSWORD_MIN_LENGTH - 6), COMMON)
    check_password_policy("y" * PASSWORD_MAX_LENGTH, COMMON)
    with pytest.raises(InvalidInput, match="at most"):
        check_password_policy("y" * (PASSWORD_MAX_LENGTH + 1), COMMON)
    assert PASSWORD_MAX_LENGTH >= 64


@pytest.mark.parametrize("password", ["password1", "PASSWORD1", "Iloveyou", "qwertyuiop"])
def test_common_password_is_refused_whatever_its_case(password: str) -> None:
    with pytest.raises(InvalidInput, match="too common"):
        check_password_policy(password, COMMON)


def test_unusual_long_password_passes() -> None:
    check_password_policy("ultrasound-triage-velvet-42", COMMON)


# --- assessment ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "threshold", "label", "confidence"),
    [
        (0.5, 0.5, Label.MALIGNANT, 0.5),  # the threshold itself counts as malignant
        (0.4999, 0.5, Label.BENIGN, 0.5001),
        (0.31, 0.3, Label.MALIGNANT, 0.31),  # a low operating point flags more images
        (0.29, 0.3, Label.BENIGN, 0.71),
        (0.0, 0.5, Label.BENIGN, 1.0),
        (1.0, 0.5, Label.MALIGNANT, 1.0),
        (0.0, 0.0, Label.MALIGNANT, 0.0),
        (1.0, 1.0, Label.MALIGNANT, 1.0),
    ],
)
def test_label_and_confidence_at_threshold_edges(
    p: float, threshold: float, label: Label, confidence: float
) -> None:
    assessment = Assessment(p, threshold, "v1")
    assert assessment.label is label
    assert assessment.confidence == pytest.approx(confidence)


@pytest.mark.parametrize(("p", "threshold"), [(-0.01, 0.5), (1.01, 0.5), (0.5, 1.5), (0.5, -1)])
def test_assessment_refuses_values_outside_unit_interval(p: float, threshold: float) -> None:
    with pytest.raises(InvalidInput):
        Assessment(p, threshold, "v1")


def test_prediction_exposes_label_of_its_own_threshold() -> None:
    assert make_prediction(0.4, threshold=0.35).label is Label.MALIGNANT
    assert make_prediction(0.4, threshold=0.5).label is Label.BENIGN


# --- review and visibility ----------------------------------------------------------------


def test_review_note_length_is_bounded() -> None:
    Review(Verdict.AGREE, "n" * MAX_NOTE_LENGTH, uuid4(), T0)
    with pytest.raises(InvalidInput):
        Review(Verdict.AGREE, "n" * (MAX_NOTE_LENGTH + 1), uuid4(), T0)


def test_review_keeps_model_output() -> None:
    prediction = make_prediction(0.8)
    reviewed = prediction.reviewed(Review(Verdict.DISAGREE, "cyst", uuid4(), T0))
    assert reviewed.review is not None
    assert reviewed.review.verdict is Verdict.DISAGREE
    assert (reviewed.p_malignant, reviewed.label) == (0.8, Label.MALIGNANT)
    assert prediction.review is None


def test_only_owner_and_admins_see_a_prediction() -> None:
    owner, other, admin = make_user(), make_user(), make_user(Role.ADMIN)
    prediction = make_prediction(0.5, owner=owner)
    prediction.ensure_visible_to(owner)
    prediction.ensure_visible_to(admin)
    with pytest.raises(Forbidden):
        prediction.ensure_visible_to(other)


def test_user_changes_that_end_sessions_bump_token_version() -> None:
    user = make_user()
    assert user.with_role(Role.ADMIN).token_version == 1
    assert user.deactivated().token_version == 1
    assert user.signed_out_everywhere().token_version == 1
    assert user.deactivated().reactivated().is_active


# --- statistics ---------------------------------------------------------------------------


def test_summarise_empty() -> None:
    stats = summarise([])
    assert (stats.total, stats.malignant, stats.benign) == (0, 0, 0)
    assert stats.malignant_share == 0.0
    assert stats.agreement_rate is None
    assert stats.per_day == ()
    assert stats.probability_histogram == (0,) * 10


def test_summarise_counts_shares_days_reviews_and_histogram() -> None:
    day2 = T0 + timedelta(days=1)
    predictions = [
        make_prediction(0.9, verdict=Verdict.AGREE),
        make_prediction(0.5, verdict=Verdict.DISAGREE),
        make_prediction(0.1, at=day2, verdict=Verdict.AGREE),
        make_prediction(1.0, at=day2),
    ]
    stats = summarise(predictions)
    assert (stats.total, stats.malignant, stats.benign) == (4, 3, 1)
    assert stats.malignant_share == pytest.approx(0.75)
    assert stats.mean_probability == pytest.approx(0.625)
    assert (stats.reviewed, stats.agreed) == (3, 2)
    assert stats.agreement_rate == pytest.approx(2 / 3)
    assert [(d.day, d.total, d.malignant) for d in stats.per_day] == [
        (T0.date(), 2, 2),
        (day2.date(), 2, 1),
    ]
    # p=1.0 falls into the last bin, not past it.
    assert stats.probability_histogram == (0, 1, 0, 0, 0, 1, 0, 0, 0, 2)


def test_every_error_code_is_documented() -> None:
    notes = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    assert [code for code in ErrorCode if f"| `{code}` |" not in notes] == []


# --- look-alike emails and control characters (issue 9) ---------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Dr.Martin@Example.ORG", "dr.martin@example.org"),
        ("ｄｒ.martin@example.org", "dr.martin@example.org"),  # fullwidth letters
        ("STRASSE@example.org", "strasse@example.org"),
        ("straße@example.org", "strasse@example.org"),  # case-folded
    ],
)
def test_emails_have_one_spelling(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "dr.mar\u200btin@example.org",  # zero-width space
        "dr.m\u0430rtin@example.org",  # Cyrillic a among Latin letters
        "dr.martin@ex\u0430mple.org",  # ... in the domain
        "dr\u202e.martin@example.org",  # bidi override
        "dr\x00martin@example.org",
        "dr\x07martin@example.org",
    ],
)
def test_look_alike_and_control_characters_are_refused_in_emails(typed: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise_email(typed)
    assert raised.value.code is ErrorCode.EMAIL_INVALID


def test_a_single_script_email_in_another_alphabet_is_accepted() -> None:
    assert normalise_email("иван@пример.рф") == "иван@пример.рф"


def test_plain_text_keeps_line_breaks_only_where_asked() -> None:
    assert plain_text("one\ntwo\tthree", "note", multiline=True) == "one\ntwo\tthree"
    with pytest.raises(InvalidInput):
        plain_text("one\ntwo", "display_name")
