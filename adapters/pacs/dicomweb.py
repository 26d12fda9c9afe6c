"""PacsClient over DICOMweb (QIDO-RS search, WADO-RS retrieve, STOW-RS store) with
dicomweb-client, run off the event loop; connection failures and 5xx answers are retried
with exponential backoff, then reported as PacsUnavailable."""

from __future__ import annotations

import base64
import io
import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import anyio
import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from adapters.imaging.dicom_decoder import tag_date, tag_text
from application.ports import PacsInstance, PacsStudy, RetrievedStudy
from domain.errors import ErrorCode, NotFound, PacsUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
_STUDY_FIELDS = ("StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedInstances")


def study_not_found(study_uid: str) -> NotFound:
    return NotFound(f"The PACS holds no study {study_uid}.", ErrorCode.PACS_STUDY_NOT_FOUND)


class DicomwebPacsClient:
    """The clinic's PACS through its DICOMweb root (e.g. Orthanc's /dicom-web)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 20.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        username: str = "",
        password: str | None = None,
        max_concurrency: int = 4,
    ) -> None:
        self.url = url.rstrip("/")
        self._timeout_s = timeout_s
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._headers: dict[str, str] = {}
        if username:  # HTTP Basic, as Orthanc and most DICOMweb gateways take it
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    # --- PacsClient --------------------------------------------------------------------

    async def find_studies(
        self, patient_id: str | None, accession_number: str | None, limit: int = 50
    ) -> list[PacsStudy]:
        filters = {
            key: value
            for key, value in (("PatientID", patient_id), ("AccessionNumber", accession_number))
            if value
        }
        found = await self._run(
            lambda c: c.search_for_studies(
                search_filters=filters, fields=list(_STUDY_FIELDS), limit=limit
            )
        )
        return [_study(Dataset.from_json(item)) for item in found]

    async def retrieve_study(self, study_instance_uid: str) -> RetrievedStudy:
        listed = await self._run(lambda c: c.search_for_instances(study_instance_uid))
        expected = {str(Dataset.from_json(item).SOPInstanceUID) for item in listed}
        if not expected:
            raise study_not_found(study_instance_uid)
        datasets = await self._run(lambda c: c.retrieve_study(study_instance_uid))
        instances = tuple(_instance(ds) for ds in datasets)
        received = {item.sop_instance_uid for item in instances}
        return RetrievedStudy(
            study_instance_uid=study_instance_uid,
            instances=instances,
            missing=tuple(sorted(expected - received)),
        )

    async def retrieve_instance(
        self, study_instance_uid: str, series_instance_uid: str, sop_instance_uid: str
    ) -> bytes:
        dataset = await self._run(
            lambda c: c.retrieve_instance(study_instance_uid, series_instance_uid, sop_instance_uid)
        )
        return _instance(dataset).data

    async def find_results(self, study_instance_uid: str, manufacturer: str) -> list[bytes]:
        listed = await self._run(
            lambda c: c.search_for_instances(study_instance_uid, search_filters={"Modality": "SR"})
        )
        reports: list[bytes] = []
        for item in listed:
            ref = Dataset.from_json(item)
            if str(ref.get("SOPClassUID", "")) != COMPREHENSIVE_SR:
                continue
            data = await self.retrieve_instance(
                study_instance_uid, str(ref.SeriesInstanceUID), str(ref.SOPInstanceUID)
            )
            if str(_read(data).get("Manufacturer", "")) == manufacturer:
                reports.append(data)
        return reports

    async def store(self, objects: Sequence[bytes]) -> None:
        datasets = [_read(data) for data in objects]
        answer: Dataset = await self._run(lambda c: c.store_instances(datasets))
        failed = len(answer.get("FailedSOPSequence", []))
        if failed:
            raise PacsUnavailable(
                f"The PACS refused {failed} of {len(datasets)} objects.",
                ErrorCode.PACS_STORE_REFUSED,
                count=failed,
            )

    # --- transport ---------------------------------------------------------------------

    def _client(self) -> DICOMwebClient:
        client = DICOMwebClient(self.url, headers=self._headers, timeout=self._timeout_s)
        client.set_http_retry_params(retry=False)  # retried here, with our backoff
        return client

    async def _run(self, call: Callable[[DICOMwebClient], T]) -> T:
        return await anyio.to_thread.run_sync(self._retrying, call, limiter=self._limiter)

    def _retrying(self, call: Callable[[DICOMwebClient], T]) -> T:
        if not self.url:
            raise PacsUnavailable("No PACS is configured (BREASTSCAN_PACS_DICOMWEB_URL).")
        for attempt in range(1, self._attempts + 1):
            try:
                return call(self._client())
            except requests.HTTPError as error:
                status = error.response.status_code if error.response is not None else 0
                if status == 404:
                    raise NotFound("Not on the PACS.", ErrorCode.PACS_STUDY_NOT_FOUND) from None
                if status in (401, 403):  # retrying would not help
                    raise PacsUnavailable(
                        f"The PACS at {self.url} refused Breastscan's credentials (HTTP {status}"
                        "): check BREASTSCAN_PACS_USERNAME and BREASTSCAN_PACS_PASSWORD."
                    ) from None
                if status < 500 or attempt == self._attempts:
                    raise self._unavailable(f"HTTP {status}") from None
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt == self._attempts:
                    raise self._unavailable(type(error).__name__) from None
            delay = self._backoff_s * 2 ** (attempt - 1)
            logger.warning("pacs.retry", extra={"attempt": attempt, "delay_s": delay})
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _unavailable(self, reason: str) -> PacsUnavailable:
        return PacsUnavailable(
            f"The PACS at {self.url} cannot be reached ({reason}, {self._attempts} attempts)."
        )


def _study(ds: Dataset) -> PacsStudy:
    modalities = ds.get("ModalitiesInStudy") or ()
    count = ds.get("NumberOfStudyRelatedInstances")
    return PacsStudy(
        study_instance_uid=str(ds.StudyInstanceUID),
        patient_id=tag_text(ds, "PatientID"),
        accession_number=tag_text(ds, "AccessionNumber"),
        study_date=tag_date(tag_text(ds, "StudyDate")),
        description=tag_text(ds, "StudyDescription"),
        modalities=tuple(
            str(m) for m in ([modalities] if isinstance(modalities, str) else modalities)
        ),
        instance_count=int(count) if count not in (None, "") else None,
    )


def _instance(ds: Dataset) -> PacsInstance:
    if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        meta = FileMetaDataset()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return PacsInstance(
        sop_class_uid=str(ds.SOPClassUID),
        sop_instance_uid=str(ds.SOPInstanceUID),
        series_instance_uid=str(ds.SeriesInstanceUID),
        data=out.getvalue(),
    )


def _read(data: bytes) -> Dataset:
    return pydicom.dcmread(io.BytesIO(data))
