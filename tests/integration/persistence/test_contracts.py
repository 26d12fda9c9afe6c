"""The persistence port contracts, run against the SQLAlchemy adapters on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.contracts.audit_log_contract import AuditLogContract
from tests.contracts.prediction_repository_contract import PredictionRepositoryContract
from tests.contracts.unit_of_work_contract import UnitOfWorkContract
from tests.contracts.user_repository_contract import UserRepositoryContract

pytestmark = pytest.mark.integration


class TestSqlAlchemyUserRepository(UserRepositoryContract):
    pass


class TestSqlAlchemyPredictionRepository(PredictionRepositoryContract):
    pass


class TestSqlAlchemyAuditLog(AuditLogContract):
    pass


class TestSqlAlchemyUnitOfWork(UnitOfWorkContract):
    pass
