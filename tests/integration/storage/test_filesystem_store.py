from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.storage.filesystem_store import FilesystemImageStore
from domain.errors import InvalidInput, NotFound
from tests.contracts.image_store_contract import ImageStoreContract, addressed

pytestmark = pytest.mark.integration


class TestFilesystemImageStoreContract(ImageStoreContract):
    @pytest.fixture
    def image_store(self, tmp_path: Path) -> FilesystemImageStore:
        return FilesystemImageStore(tmp_path / "images")


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.fixture
def store(tmp_path: Path) -> FilesystemImageStore:
    return FilesystemImageStore(tmp_path / "images")


async def test_layout_is_content_addressed(store: FilesystemImageStore) -> None:
    sha256, data = addressed(b"layout")
    await store.put(sha256, data)
    path = store.root / sha256[:2] / sha256[2:4] / f"{sha256}.png"
    assert path.read_bytes() == data
    assert store.path_for(sha256) == path


async def test_a_jpeg_is_kept_under_its_own_suffix(store: FilesystemImageStore) -> None:
    sha256, data = addressed(b"\xff\xd8\xff\xe0 a jpeg stream")
    await store.put(sha256, data)
    path = store.path_for(sha256).with_suffix(".jpg")
    assert path.read_bytes() == data
    assert not store.path_for(sha256).exists()
    assert await store.get(sha256) == data
    assert await store.exists(sha256)
    await store.delete(sha256)
    assert not path.exists()
    assert not await store.exists(sha256)


async def test_a_dicom_file_is_kept_as_dcm_and_swept_like_images(
    store: FilesystemImageStore,
) -> None:
    sha256, data = addressed(b"\0" * 128 + b"DICM a de-identified copy")
    await store.put(sha256, data)
    path = store.path_for(sha256).with_suffix(".dcm")
    assert path.read_bytes() == data
    assert not store.path_for(sha256).exists()
    assert await store.get(sha256) == data
    assert await store.exists(sha256)
    assert await store.stored_before(datetime.now(UTC) + timedelta(seconds=1)) == [sha256]
    assert await store.delete_if_stored_before(sha256, datetime.now(UTC) + timedelta(seconds=1))
    assert not path.exists()
    assert not await store.exists(sha256)


@pytest.mark.parametrize(
    "address",
    [
        "../../../etc/passwd",
        "../" + "a" * 61,
        "/" + "a" * 63,
        "a" * 63,
        "a" * 65,
        "A" * 64,
        "g" * 64,
        "a" * 62 + "/.",
        "a" * 63 + "\n",
        "",
    ],
)
async def test_anything_but_a_digest_is_refused(
    store: FilesystemImageStore, tmp_path: Path, address: str
) -> None:
    with pytest.raises(InvalidInput):
        await store.put(address, b"x")
    with pytest.raises(InvalidInput):
        await store.get(address)
    with pytest.raises(InvalidInput):
        await store.delete(address)
    with pytest.raises(InvalidInput):
        await store.exists(address)
    assert not files_under(tmp_path)  # nothing was created anywhere


async def test_bytes_must_match_their_address(store: FilesystemImageStore) -> None:
    sha256, _ = addressed(b"the real bytes")
    with pytest.raises(InvalidInput, match="do not match"):
        await store.put(sha256, b"other bytes")
    assert not await store.exists(sha256)


async def test_put_never_overwrites_an_existing_file(store: FilesystemImageStore) -> None:
    sha256, data = addressed(b"original")
    await store.put(sha256, data)
    path = store.path_for(sha256)
    before = path.stat().st_ino
    await store.put(sha256, data)
    assert path.stat().st_ino == before  # the same file, not a new one put in its place
    assert path.read_bytes() == data


async def test_write_is_atomic_when_interrupted(
    store: FilesystemImageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha256, data = addressed(b"interrupted write" * 1000)

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        await store.put(sha256, data)
    monkeypatch.undo()
    assert not await store.exists(sha256)  # no partial file under the real name
    assert not files_under(store.root)  # no temporary left over
    await store.put(sha256, data)
    assert await store.get(sha256) == data


async def test_concurrent_puts_of_the_same_image(store: FilesystemImageStore) -> None:
    sha256, data = addressed(os.urandom(256 * 1024))
    await asyncio.gather(*(store.put(sha256, data) for _ in range(16)))
    assert await store.get(sha256) == data
    assert files_under(store.root) == [store.path_for(sha256)]


async def test_a_missing_file_reads_as_not_found_even_if_removed_behind_our_back(
    store: FilesystemImageStore,
) -> None:
    sha256, data = addressed(b"removed by an operator")
    await store.put(sha256, data)
    store.path_for(sha256).unlink()
    with pytest.raises(NotFound):
        await store.get(sha256)


async def test_stored_images_survive_a_new_store_instance(tmp_path: Path) -> None:
    data = b"persisted"
    sha256 = hashlib.sha256(data).hexdigest()
    await FilesystemImageStore(tmp_path).put(sha256, data)
    assert await FilesystemImageStore(tmp_path).get(sha256) == data
