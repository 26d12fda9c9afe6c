"""The DICOM C-STORE listener (`breastscan dicom-listen`): a storage SCP with pynetdicom.

It answers C-ECHO, accepts associations only from the configured calling AE titles (when any
are set), takes every storage SOP class in any transfer syntax, and files each received image
into studies under the service account (ReceivePacsImages: US, US multi-frame and secondary
capture are analysed); anything else is acknowledged and logged as skipped. pynetdicom runs
each association in a thread; the use case runs on the service's event loop.
"""

from __future__ import annotations

import asyncio
import io
import logging
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from application.commands import DicomObject, ReceivePacsImages
from application.use_cases import ReceivePacsImagesUseCase
from domain.errors import DomainError
from entrypoints.settings import Settings

logger = logging.getLogger(__name__)

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700  # the sender may retry later (database or model unavailable)
RECEIVE_TIMEOUT_S = 120.0


class DicomListener:
    """A storage SCP that hands what it receives to ReceivePacsImages."""

    def __init__(
        self,
        receive: ReceivePacsImagesUseCase,
        settings: Settings,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._receive = receive
        self._settings = settings
        self._loop = loop
        self._server: Any = None
        self.ae = AE(ae_title=settings.dicom_ae_title)
        # Every storage class in every transfer syntax: what the decoder cannot read is
        # acknowledged and logged as skipped rather than refused at association time.
        for context in AllStoragePresentationContexts:
            if context.abstract_syntax is not None:
                self.ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        self.ae.add_supported_context(Verification)
        if settings.dicom_accepted_aets:
            self.ae.require_calling_aet = list(settings.dicom_accepted_aets)

    def start(self, host: str = "0.0.0.0", port: int | None = None) -> None:  # noqa: S104
        handlers: list[Any] = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, self._on_echo)]
        address = (host, port or self._settings.dicom_port)
        self._server = self.ae.start_server(address, block=False, evt_handlers=handlers)
        logger.info("dicom.listening", extra={"ae_title": self._settings.dicom_ae_title})

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    @staticmethod
    def _on_echo(event: evt.Event) -> int:
        return SUCCESS

    def _on_store(self, event: evt.Event) -> int:
        dataset: Dataset = event.dataset
        dataset.file_meta = event.file_meta
        out = io.BytesIO()
        dataset.save_as(out, enforce_file_format=True)
        uid, sop_class = str(dataset.SOPInstanceUID), str(dataset.SOPClassUID)
        study = str(dataset.get("StudyInstanceUID", ""))
        command = ReceivePacsImages(
            service_account=self._settings.dicom_service_account,
            objects=(DicomObject(uid, sop_class, study, out.getvalue()),),
        )
        future = asyncio.run_coroutine_threadsafe(self._receive(command), self._loop)
        try:
            result = future.result(timeout=RECEIVE_TIMEOUT_S)
        except (DomainError, FutureTimeout) as error:
            logger.warning(
                "dicom.store_failed", extra={"sop_instance_uid": uid, "error": str(error)}
            )
            return OUT_OF_RESOURCES
        for skipped in result.skipped:
            logger.info(
                "dicom.skipped",
                extra={
                    "sop_instance_uid": uid,
                    "sop_class_uid": sop_class,
                    "reason": skipped.reason,
                },
            )
        for prediction in result.predictions:
            logger.info(
                "dicom.analysed",
                extra={"sop_instance_uid": uid, "prediction_id": str(prediction.id)},
            )
        return SUCCESS


async def serve(receive: ReceivePacsImagesUseCase, settings: Settings, host: str) -> None:
    """Listen until cancelled."""
    listener = DicomListener(receive, settings, asyncio.get_running_loop())
    listener.start(host)
    try:
        await asyncio.Event().wait()
    finally:
        listener.stop()
