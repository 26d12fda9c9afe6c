"""The HealthProbe contract on SQLite and PostgreSQL, both migrated to head."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.health import SqlAlchemyHealthProbe
from tests.contracts.health_probe_contract import HealthProbeContract

pytestmark = pytest.mark.integration


class TestSqlAlchemyHealthProbe(HealthProbeContract):
    @pytest.fixture
    def health_probe(self, engine: AsyncEngine) -> SqlAlchemyHealthProbe:
        return SqlAlchemyHealthProbe(engine)
