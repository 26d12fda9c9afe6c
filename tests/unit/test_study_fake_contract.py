"""The StudyRepository contract, run against the in-memory fake the unit tests rely on."""

from __future__ import annotations

import pytest

from tests.contracts.study_repository_contract import StudyRepositoryContract
from tests.contracts.user_repository_contract import UowFactory
from tests.fakes import FakeDatabase, FakeUnitOfWork

pytestmark = pytest.mark.unit


@pytest.fixture
def uow_factory() -> UowFactory:
    db = FakeDatabase()
    return lambda: FakeUnitOfWork(db)


class TestFakeStudyRepository(StudyRepositoryContract):
    pass
