"""ReceivePacsImages: file what a DICOM node sent (C-STORE) under the service account."""

from __future__ import annotations

from application.commands import PacsImport, ReceivePacsImages
from application.ports import UnitOfWork
from application.use_cases._pacs import AddImages, file_images
from domain.errors import Forbidden
from domain.users import normalise_email, user_not_found


class ReceivePacsImagesUseCase:
    """Analyse received objects into the service account's studies; non-images are skipped."""

    def __init__(self, uow: UnitOfWork, add_images: AddImages) -> None:
        self._uow = uow
        self._add_images = add_images

    async def __call__(self, cmd: ReceivePacsImages) -> PacsImport:
        async with self._uow as uow:
            account = await uow.users.get_by_email(normalise_email(cmd.service_account))
        if account is None:
            raise user_not_found()
        if not account.is_active:
            raise Forbidden("The listener's service account is deactivated.")
        predictions, skipped = await file_images(self._add_images, self._uow, account, cmd.objects)
        return PacsImport(
            study_instance_uid="",
            study_ids=tuple(dict.fromkeys(p.study_id for p in predictions if p.study_id)),
            predictions=tuple(predictions),
            skipped=tuple(skipped),
            missing=(),
        )
