"""Behaviour every PacsClient must share (the fake and DICOMweb against a real Orthanc)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from application.ports import PacsClient
from domain.errors import ErrorCode, NotFound

PATIENT = "MRN-CONTRACT"
ACCESSION = "ACC-C1"


@dataclass(frozen=True)
class SeededStudy:
    """A study the PACS under test holds: two images and one non-image object."""

    study_instance_uid: str
    image_uids: tuple[str, ...]
    other_uids: tuple[str, ...]
    # A result report for this study, as the PACS under test stores and finds it again.
    report: Callable[[], Awaitable[bytes]]
    manufacturer: str
    identify: Callable[[bytes], str]  # which report some bytes are (the PACS may re-encode)


class PacsClientContract:
    """Needs fixtures ``pacs`` (the PacsClient under test) and ``seeded`` (a SeededStudy on
    it under PATIENT and ACCESSION, the only study of that patient)."""

    def test_is_a_pacs_client(self, pacs: PacsClient) -> None:
        assert isinstance(pacs, PacsClient)

    async def test_finds_the_study_by_patient_or_accession(
        self, pacs: PacsClient, seeded: SeededStudy
    ) -> None:
        by_patient = await pacs.find_studies(PATIENT, None)
        by_accession = await pacs.find_studies(None, ACCESSION)
        both = await pacs.find_studies(PATIENT, ACCESSION)
        for found in (by_patient, by_accession, both):
            assert [s.study_instance_uid for s in found] == [seeded.study_instance_uid]
        assert by_patient[0].patient_id == PATIENT
        assert by_patient[0].accession_number == ACCESSION
        assert await pacs.find_studies("MRN-NOBODY", None) == []

    async def test_retrieves_every_instance(self, pacs: PacsClient, seeded: SeededStudy) -> None:
        retrieved = await pacs.retrieve_study(seeded.study_instance_uid)
        assert retrieved.study_instance_uid == seeded.study_instance_uid
        assert retrieved.missing == ()
        held = {i.sop_instance_uid for i in retrieved.instances}
        assert held == {*seeded.image_uids, *seeded.other_uids}
        one = next(i for i in retrieved.instances if i.sop_instance_uid == seeded.image_uids[0])
        data = await pacs.retrieve_instance(
            seeded.study_instance_uid, one.series_instance_uid, one.sop_instance_uid
        )
        assert data == one.data
        assert (
            await pacs.retrieve_instance(
                seeded.study_instance_uid, one.series_instance_uid, one.sop_instance_uid
            )
            == data
        )

    async def test_an_unknown_study_is_not_found(self, pacs: PacsClient) -> None:
        with pytest.raises(NotFound) as raised:
            await pacs.retrieve_study("1.2.826.0.1.3680043.99999")
        assert raised.value.code is ErrorCode.PACS_STUDY_NOT_FOUND

    async def test_stored_reports_are_found_again_in_order(
        self, pacs: PacsClient, seeded: SeededStudy
    ) -> None:
        uid, who = seeded.study_instance_uid, seeded.identify

        async def found() -> set[str]:
            return {who(data) for data in await pacs.find_results(uid, seeded.manufacturer)}

        assert await found() == set()
        first = await seeded.report()
        await pacs.store([first])
        assert await found() == {who(first)}
        second = await seeded.report()
        await pacs.store([second])
        assert await found() == {who(first), who(second)}
        assert await pacs.find_results(uid, "Another Vendor") == []
