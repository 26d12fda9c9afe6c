"""The StudyRepository contract against the SQLAlchemy adapter on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.contracts.study_repository_contract import StudyRepositoryContract

pytestmark = pytest.mark.integration


class TestSqlAlchemyStudyRepository(StudyRepositoryContract):
    pass
