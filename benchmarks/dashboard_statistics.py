"""Dashboard statistics over a million stored predictions on PostgreSQL (a benchmark, not a test).

Creates a throwaway database, migrates it, loads N predictions (default 1,000,000) spread over
50 clinicians and 365 days, a fifth of them reviewed, then times GetStatistics exactly as the
dashboard calls it (the use case over SqlAlchemyStatisticsReader): for an administrator (every
prediction), for one clinician, and for an administrator with a label and date filter. Prints
the median and worst of several runs; the database is dropped afterwards.
Target: under 1 s for the administrator's view of 1,000,000 predictions.

    python benchmarks/dashboard_statistics.py [--url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
                                    [--rows 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.persistence.engine import create_engine
from adapters.persistence.migrate import upgrade_to_head
from adapters.persistence.statistics import SqlAlchemyStatisticsReader
from application.commands import GetStatistics, PredictionFilters
from application.use_cases import GetStatisticsUseCase
from domain.predictions import Label
from domain.users import Role, User

CLINICIANS = 50
LOAD = """
INSERT INTO predictions (id, owner_id, filename, image_sha256, p_malignant, threshold,
                         model_version, created_at, review_verdict, reviewer_id, reviewed_at)
SELECT md5(n::text || 'p')::uuid,
       (SELECT id FROM users ORDER BY id OFFSET (n % CAST(:clinicians AS integer)) LIMIT 1),
       'scan-' || n || '.png',
       md5(n::text) || md5(n::text || 'x'),
       random(), 0.31, 'bench-1',
       timestamptz '2025-01-01 00:00+00' + (random() * interval '365 days'),
       CASE WHEN n % 5 = 0 THEN (CASE WHEN random() < 0.8 THEN 'agree' ELSE 'disagree' END) END,
       CASE WHEN n % 5 = 0 THEN (SELECT id FROM users WHERE role = 'admin' LIMIT 1) END,
       CASE WHEN n % 5 = 0 THEN timestamptz '2026-01-01 00:00+00' END
FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS n
"""


def actor(user_id: uuid.UUID, role: Role) -> User:
    return User(user_id, f"{user_id.hex[:8]}@bench", "", role, True, datetime.now(UTC))


async def timed(use_case: GetStatisticsUseCase, cmd: GetStatistics, runs: int) -> list[float]:
    await use_case(cmd)  # warm: connection and plan
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        await use_case(cmd)
        seconds.append(time.perf_counter() - started)
    return seconds


async def main(url: str, rows: int, runs: int) -> None:
    server = make_url(url)
    name = f"breastscan_bench_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(server.set(database="postgres"))
    async with admin_engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(server.set(database=name))
    try:
        await upgrade_to_head(engine)
        admin_id, clinician_ids = uuid.uuid4(), [uuid.uuid4() for _ in range(CLINICIANS)]
        started = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO users (id, email, password_hash, role) VALUES (:i, :e, '', :r)"),
                [{"i": admin_id, "e": "admin@bench", "r": "admin"}]
                + [
                    {"i": c, "e": f"c{k}@bench", "r": "clinician"}
                    for k, c in enumerate(clinician_ids)
                ],
            )
            step = 100_000
            for start in range(1, rows + 1, step):
                stop = min(rows, start + step - 1)
                await connection.execute(
                    text(LOAD), {"clinicians": CLINICIANS + 1, "start": start, "stop": stop}
                )
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE predictions"))
        print(f"loaded {rows:,} predictions in {time.perf_counter() - started:.1f} s")

        use_case = GetStatisticsUseCase(SqlAlchemyStatisticsReader(engine))
        admin, clinician = actor(admin_id, Role.ADMIN), actor(clinician_ids[0], Role.CLINICIAN)
        filtered = PredictionFilters.parse(
            label=Label.MALIGNANT, date_from="2025-03-01", date_to="2025-05-31"
        )
        cases = {
            "admin, everything": GetStatistics(actor=admin),
            "one clinician": GetStatistics(actor=clinician),
            "admin, malignant, Mar-May": GetStatistics(actor=admin, filters=filtered),
        }
        total = (await use_case(cases["admin, everything"])).total
        assert total == rows, (total, rows)
        for label, cmd in cases.items():
            seconds = await timed(use_case, cmd, runs)
            print(
                f"{label:28s} median {statistics.median(seconds) * 1000:7.1f} ms"
                f"   worst {max(seconds) * 1000:7.1f} ms   ({runs} runs)"
            )
    finally:
        await engine.dispose()
        async with admin_engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin_engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.url, options.rows, options.runs))
