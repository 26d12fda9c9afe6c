"""scripts/check_image_store.py on a migrated SQLite database: images and DICOM copies alike."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest

from adapters.persistence.engine import create_engine
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from adapters.storage.filesystem_store import FilesystemImageStore
from scripts import check_image_store
from tests.contracts.prediction_repository_contract import make_prediction, store
from tests.contracts.user_repository_contract import UowFactory, make_user, store_users

pytestmark = pytest.mark.integration


def addressed(data: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(data).hexdigest(), data


async def seed(url: str, images: FilesystemImageStore) -> tuple[str, ...]:
    """One JPEG analysis and one DICOM analysis (PNG image + copy); their digests."""
    png = addressed(b"\x89PNG\r\n\x1a\n a png")
    jpeg = addressed(b"\xff\xd8\xff a jpeg")
    dicom = addressed(b"\0" * 128 + b"DICM a de-identified copy")
    for sha256, data in (png, jpeg, dicom):
        await images.put(sha256, data)
    owner = make_user()
    engine = create_engine(url)
    try:
        # the protocol's attributes are invariant for mypy: the real unit of work, as the port
        uow_factory = cast(UowFactory, lambda: SqlAlchemyUnitOfWork(engine))
        await store_users(uow_factory, owner)
        await store(
            uow_factory,
            make_prediction(owner, image_sha256=jpeg[0]),
            replace(
                make_prediction(owner, image_sha256=png[0]),
                dicom_sha256=dicom[0],
                frame_index=0,
                frame_count=1,
            ),
        )
    finally:
        await engine.dispose()
    return png[0], jpeg[0], dicom[0]


def test_the_check_counts_png_jpeg_and_dicom_files_and_names_a_lost_copy(
    migrated_sqlite_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "breastscan.db"
    shutil.copyfile(migrated_sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    images = FilesystemImageStore(tmp_path / "images")
    *_, dicom = asyncio.run(seed(url, images))
    args = ["--database-url", url, "--image-dir", str(tmp_path / "images"), "--list"]

    assert check_image_store.main(args) == 0
    assert "referenced 3  missing 0  unreferenced 0" in capsys.readouterr().out
    for copy in images.root.rglob(f"{dicom}.dcm"):
        copy.unlink()
    assert check_image_store.main(args) == 1
    assert f"missing {dicom}" in capsys.readouterr().out
