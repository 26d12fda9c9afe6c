"""Bands, BI-RADS reviews, outcomes and the real-world performance over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.http.conftest import Account, Api
from tests.e2e.http.images import bright, dark
from tests.e2e.http.test_predictions import files, store

pytestmark = [pytest.mark.e2e]

BIOPSY = {"result": "malignant", "source": "biopsy", "date": "2025-01-15", "histology": "IDC"}


async def put_outcome(api: Api, who: Account, prediction_id: str, body: dict[str, Any]) -> Any:
    return await api.client.put(
        f"/api/predictions/{prediction_id}/outcome", json=body, headers=who.headers
    )


async def test_every_result_carries_its_band_in_the_one_vocabulary(
    api: Api, alice: Account
) -> None:
    analysed = await api.client.post(
        "/api/predict", files=files(("scan.png", bright())), headers=alice.headers
    )
    assert (analysed.json()["band"], analysed.json()["borderline"]) == ("high", False)
    high, low = await store(api, alice, ("a.png", bright()), ("b.png", dark()))
    assert (high["band"], low["band"]) == ("high", "low")
    assert high["outcome"] is None
    model = (await api.client.get("/api/model", headers=alice.headers)).json()
    assert [b["name"] for b in model["bands"]] == [
        "very_low",
        "low",
        "intermediate",
        "high",
        "very_high",
    ]
    assert model["bands"][0]["wording"] == "Very low likelihood of malignancy (<2 %)"
    assert model["borderline_margin"] > 0


async def test_review_with_birads_then_record_replace_and_withdraw_the_outcome(
    api: Api, alice: Account
) -> None:
    [stored] = await store(api, alice, ("a.png", bright()))
    reviewed = await api.client.patch(
        f"/api/predictions/{stored['id']}/review",
        json={"verdict": "agree", "note": "spiculated", "birads": "4C"},
        headers=alice.headers,
    )
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["review"]["birads"] == "4C"

    recorded = await put_outcome(api, alice, stored["id"], BIOPSY)
    assert recorded.status_code == 200, recorded.text
    outcome = recorded.json()["outcome"]
    assert (outcome["result"], outcome["source"], outcome["date"]) == (
        "malignant",
        "biopsy",
        "2025-01-15",
    )
    assert (outcome["histology"], outcome["recorded_by"]) == ("IDC", alice.id)
    replaced = await put_outcome(api, alice, stored["id"], BIOPSY | {"result": "benign"})
    assert replaced.json()["outcome"]["result"] == "benign"
    again = await api.client.get(f"/api/predictions/{stored['id']}", headers=alice.headers)
    assert again.json()["outcome"]["result"] == "benign"
    assert again.json()["review"]["birads"] == "4C"

    gone = await api.client.delete(
        f"/api/predictions/{stored['id']}/outcome", headers=alice.headers
    )
    assert gone.status_code == 204
    after = await api.client.get(f"/api/predictions/{stored['id']}", headers=alice.headers)
    assert after.json()["outcome"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (BIOPSY | {"result": "maybe"}, 400, None),
        (BIOPSY | {"source": "hunch"}, 400, None),
        (BIOPSY | {"date": "15/01/2025"}, 400, None),
        (BIOPSY | {"histology": "x" * 501}, 400, None),
        ({"result": "benign"}, 400, None),
        (
            BIOPSY | {"date": (datetime.now(UTC) + timedelta(days=3)).date().isoformat()},
            422,
            "outcome_date_in_future",
        ),
        (BIOPSY | {"histology": "IDC\u202e"}, 422, "text_invalid_characters"),
    ],
)
async def test_bad_outcomes_are_a_clear_4xx(
    api: Api, alice: Account, body: dict[str, Any], status: int, code: str | None
) -> None:
    [stored] = await store(api, alice, ("a.png", bright()))
    refused = await put_outcome(api, alice, stored["id"], body)
    assert refused.status_code == status, refused.text
    if code:
        assert refused.json()["code"] == code
    bad_birads = await api.client.patch(
        f"/api/predictions/{stored['id']}/review",
        json={"verdict": "agree", "birads": "4D"},
        headers=alice.headers,
    )
    assert bad_birads.status_code == 400


async def test_only_the_owner_and_admins_record_outcomes(
    api: Api, alice: Account, bob: Account
) -> None:
    [stored] = await store(api, alice, ("a.png", bright()))
    assert (await put_outcome(api, bob, stored["id"], BIOPSY)).status_code == 404
    withdraw = await api.client.delete(
        f"/api/predictions/{stored['id']}/outcome", headers=bob.headers
    )
    assert withdraw.status_code == 404
    admin = await api.account(admin=True)
    assert (await put_outcome(api, admin, stored["id"], BIOPSY)).status_code == 200


async def test_performance_and_statistics_count_the_outcomes(api: Api, alice: Account) -> None:
    found, missed, open_case = await store(
        api, alice, ("a.png", bright()), ("b.png", dark()), ("c.png", dark())
    )
    await put_outcome(api, alice, found["id"], BIOPSY)
    await put_outcome(api, alice, missed["id"], BIOPSY | {"source": "surgery"})
    await api.client.patch(
        f"/api/predictions/{missed['id']}/review",
        json={"verdict": "disagree", "birads": "4A"},
        headers=alice.headers,
    )
    r = await api.client.get("/api/stats/performance", headers=alice.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    model = body["model"]
    assert (model["cases"], model["malignant"], model["tp"], model["fn"]) == (2, 2, 1, 1)
    assert model["sensitivity"]["value"] == 0.5
    assert model["sensitivity"]["lower"] < 0.5 < model["sensitivity"]["upper"]
    assert model["auc"] is None  # no benign outcome yet
    assert (body["clinicians"]["tp"], body["clinicians"]["cases"]) == (1, 1)
    assert [g["key"] for g in body["by_model_version"]] == [found["model_version"]]
    assert len(body["by_month"]) == 1
    stats = (await api.client.get("/api/stats", headers=alice.headers)).json()
    assert (stats["with_outcome"], stats["malignant_outcomes"], stats["total"]) == (2, 2, 3)
    assert open_case["outcome"] is None
