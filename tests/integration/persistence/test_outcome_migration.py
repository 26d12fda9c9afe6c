"""Migration 0004 on SQLite and PostgreSQL: earlier predictions get their band, and the
outcome and BI-RADS columns come and go with it."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.migrate import downgrade, upgrade
from tests.integration.persistence.test_migrations import (  # noqa: F401 (fixtures)
    empty_engine,
    empty_url,
    fresh_postgres_url,
)

pytestmark = pytest.mark.integration

# (p_malignant, threshold) -> (band, borderline) with the fallback cut-points, margin 0.05
CASES = {
    (0.01, 0.5): ("very_low", False),
    (0.05, 0.5): ("low", False),
    (0.30, 0.31): ("intermediate", True),
    (0.5, 0.5): ("high", True),
    (0.97, 0.5): ("very_high", False),
}


async def test_0004_backfills_bands_and_downgrades_cleanly(
    empty_engine: AsyncEngine,  # noqa: F811
) -> None:
    await upgrade(empty_engine, "0003")
    owner = uuid4()
    async with empty_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, role) "
                "VALUES (:id, 'a@example.org', 'x', 'clinician')"
            ),
            {"id": owner.hex if empty_engine.dialect.name == "sqlite" else owner},
        )
        for p, threshold in CASES:
            await connection.execute(
                text(
                    "INSERT INTO predictions (id, owner_id, filename, image_sha256, p_malignant,"
                    " threshold, model_version) VALUES (:id, :owner, 'f.png', :sha, :p, :t, 'v')"
                ),
                {
                    "id": uuid4().hex if empty_engine.dialect.name == "sqlite" else uuid4(),
                    "owner": owner.hex if empty_engine.dialect.name == "sqlite" else owner,
                    "sha": "ab" * 32,
                    "p": p,
                    "t": threshold,
                },
            )
    await upgrade(empty_engine, "0004")
    async with empty_engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT p_malignant, threshold, band, borderline FROM predictions")
            )
        ).all()
    assert {(p, t): (band, bool(flag)) for p, t, band, flag in rows} == CASES

    async with empty_engine.connect() as connection:
        with pytest.raises(IntegrityError):  # the CHECK holds the vocabulary
            await connection.execute(text("UPDATE predictions SET band = 'medium'"))

    await downgrade(empty_engine, "0003")
    async with empty_engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("predictions")}
        )
    assert "outcomes" not in tables
    assert not {"band", "borderline", "review_birads"} & columns
