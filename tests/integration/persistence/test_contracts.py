"""The persistence port contracts, run against the SQLAlchemy adapters on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.performance import SqlAlchemyPerformanceReader
from adapters.persistence.statistics import SqlAlchemyStatisticsReader
from tests.contracts.audit_log_contract import AuditLogContract
from tests.contracts.performance_reader_contract import PerformanceReaderContract
from tests.contracts.prediction_outcome_contract import PredictionOutcomeContract
from tests.contracts.prediction_repository_contract import PredictionRepositoryContract
from tests.contracts.statistics_reader_contract import StatisticsReaderContract
from tests.contracts.unit_of_work_contract import UnitOfWorkContract
from tests.contracts.user_repository_contract import UserRepositoryContract

pytestmark = pytest.mark.integration


class TestSqlAlchemyUserRepository(UserRepositoryContract):
    pass


class TestSqlAlchemyPredictionRepository(PredictionRepositoryContract):
    pass


class TestSqlAlchemyPredictionOutcomes(PredictionOutcomeContract):
    pass


class TestSqlAlchemyAuditLog(AuditLogContract):
    pass


class TestSqlAlchemyUnitOfWork(UnitOfWorkContract):
    pass


class TestSqlAlchemyPerformanceReader(PerformanceReaderContract):
    @pytest.fixture
    def performance_reader(self, engine: AsyncEngine) -> SqlAlchemyPerformanceReader:
        return SqlAlchemyPerformanceReader(engine)


class TestSqlAlchemyStatisticsReader(StatisticsReaderContract):
    @pytest.fixture
    def statistics_reader(self, engine: AsyncEngine) -> SqlAlchemyStatisticsReader:
        return SqlAlchemyStatisticsReader(engine)
