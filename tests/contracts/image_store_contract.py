"""Behaviour every ImageStore must share."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import pytest

from application.ports import ImageStore
from domain.errors import NotFound


def addressed(data: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(data).hexdigest(), data


class ImageStoreContract:
    """Needs a fixture ``image_store`` giving an empty ImageStore under test."""

    def test_is_an_image_store(self, image_store: ImageStore) -> None:
        assert isinstance(image_store, ImageStore)

    async def test_put_then_get(self, image_store: ImageStore) -> None:
        sha256, data = addressed(b"\x89PNG\r\n\x1a\n first image")
        await image_store.put(sha256, data)
        assert await image_store.exists(sha256)
        assert await image_store.get(sha256) == data

    async def test_old_images_are_listed_and_deleted_unless_put_again(
        self, image_store: ImageStore
    ) -> None:
        old, data = addressed(b"\x89PNG\r\n\x1a\n written first")
        await image_store.put(old, data)
        await asyncio.sleep(0.02)
        cutoff = datetime.now(UTC)
        await asyncio.sleep(0.02)
        new, more = addressed(b"\x89PNG\r\n\x1a\n written after the cutoff")
        await image_store.put(new, more)
        assert await image_store.stored_before(cutoff) == [old]
        assert await image_store.delete_if_stored_before(new, cutoff) is False
        assert await image_store.delete_if_stored_before(old, cutoff) is True
        assert not await image_store.exists(old)
        assert await image_store.delete_if_stored_before(old, cutoff) is False

    async def test_putting_an_image_again_renews_it(self, image_store: ImageStore) -> None:
        sha256, data = addressed(b"\x89PNG\r\n\x1a\n uploaded twice")
        await image_store.put(sha256, data)
        await asyncio.sleep(0.02)
        cutoff = datetime.now(UTC)
        await asyncio.sleep(0.02)
        await image_store.put(sha256, data)
        assert await image_store.stored_before(cutoff) == []
        assert await image_store.delete_if_stored_before(sha256, cutoff) is False

    async def test_missing_image_is_not_found(self, image_store: ImageStore) -> None:
        sha256, _ = addressed(b"never stored")
        assert not await image_store.exists(sha256)
        with pytest.raises(NotFound):
            await image_store.get(sha256)

    async def test_put_is_idempotent(self, image_store: ImageStore) -> None:
        sha256, data = addressed(b"same bytes twice")
        await image_store.put(sha256, data)
        await image_store.put(sha256, data)
        assert await image_store.get(sha256) == data

    async def test_delete_removes_only_that_image(self, image_store: ImageStore) -> None:
        kept_sha, kept = addressed(b"kept")
        gone_sha, gone = addressed(b"gone")
        await image_store.put(kept_sha, kept)
        await image_store.put(gone_sha, gone)
        await image_store.delete(gone_sha)
        assert not await image_store.exists(gone_sha)
        with pytest.raises(NotFound):
            await image_store.get(gone_sha)
        assert await image_store.get(kept_sha) == kept

    async def test_deleting_a_missing_image_is_fine(self, image_store: ImageStore) -> None:
        sha256, data = addressed(b"twice deleted")
        await image_store.delete(sha256)
        await image_store.put(sha256, data)
        await image_store.delete(sha256)
        await image_store.delete(sha256)
        assert not await image_store.exists(sha256)

    async def test_large_binary_round_trip(self, image_store: ImageStore) -> None:
        sha256, data = addressed(bytes(range(256)) * 20_000)
        await image_store.put(sha256, data)
        assert await image_store.get(sha256) == data
