"""Behaviour every PasswordHasher must share."""

from __future__ import annotations

from application.ports import PasswordHasher


class PasswordHasherContract:
    """Needs a fixture ``password_hasher`` giving the PasswordHasher under test (cheap profile)."""

    def test_is_a_password_hasher(self, password_hasher: PasswordHasher) -> None:
        assert isinstance(password_hasher, PasswordHasher)

    async def test_verifies_the_right_password(self, password_hasher: PasswordHasher) -> None:
        password_hash = await password_hasher.hash("correct horse battery")
        assert "correct horse battery" not in password_hash
        assert await password_hasher.verify(password_hash, "correct horse battery")

    async def test_refuses_a_wrong_password(self, password_hasher: PasswordHasher) -> None:
        password_hash = await password_hasher.hash("correct horse battery")
        assert not await password_hasher.verify(password_hash, "correct horse batterY")
        assert not await password_hasher.verify(password_hash, "")

    async def test_salts_every_hash(self, password_hasher: PasswordHasher) -> None:
        first = await password_hasher.hash("same password")
        second = await password_hasher.hash("same password")
        assert first != second
        assert await password_hasher.verify(second, "same password")

    async def test_handles_unicode_passwords(self, password_hasher: PasswordHasher) -> None:
        password_hash = await password_hasher.hash("pässwörd-日本語-🔒")
        assert await password_hasher.verify(password_hash, "pässwörd-日本語-🔒")
        assert not await password_hasher.verify(password_hash, "passwörd-日本語-🔒")

    async def test_garbage_hash_verifies_false_without_raising(
        self, password_hasher: PasswordHasher
    ) -> None:
        for garbage in ("", "not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$broken"):
            assert not await password_hasher.verify(garbage, "anything")

    async def test_fresh_hash_needs_no_rehash(self, password_hasher: PasswordHasher) -> None:
        assert not password_hasher.needs_rehash(await password_hasher.hash("a password"))
