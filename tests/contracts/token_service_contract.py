"""Behaviour every TokenService must share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from application.ports import TokenService
from domain.errors import NotAuthenticated
from domain.users import Role, User


def a_user(token_version: int = 0) -> User:
    return User(
        id=uuid4(),
        email="clinician@example.org",
        password_hash="x",
        role=Role.CLINICIAN,
        is_active=True,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        token_version=token_version,
    )


class TokenServiceContract:
    """Needs fixtures ``token_service`` (the TokenService under test, lifetime under a day)
    and ``clock``: the clock that service reads, with ``advance(delta: timedelta) -> None``.
    """

    def test_is_a_token_service(self, token_service: TokenService) -> None:
        assert isinstance(token_service, TokenService)

    def test_round_trip(self, token_service: TokenService, clock) -> None:
        user = a_user(token_version=3)
        issued = token_service.issue(user)
        claims = token_service.decode(issued.token)
        assert claims.user_id == user.id
        assert claims.token_version == 3
        assert claims.jti
        assert claims.expires_at == issued.expires_at
        assert clock.now() < issued.expires_at <= clock.now() + timedelta(days=1)

    def test_every_token_has_its_own_id(self, token_service: TokenService) -> None:
        user = a_user()
        first = token_service.decode(token_service.issue(user).token)
        second = token_service.decode(token_service.issue(user).token)
        assert first.jti != second.jti

    @pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 10_000])
    def test_refuses_malformed_tokens(self, token_service: TokenService, token: str) -> None:
        with pytest.raises(NotAuthenticated):
            token_service.decode(token)

    def test_refuses_an_altered_token(self, token_service: TokenService) -> None:
        token = token_service.issue(a_user()).token
        with pytest.raises(NotAuthenticated):
            token_service.decode(token + "x")
        with pytest.raises(NotAuthenticated):
            token_service.decode(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

    def test_refuses_an_expired_token(self, token_service: TokenService, clock) -> None:
        issued = token_service.issue(a_user())
        clock.advance(issued.expires_at - clock.now() + timedelta(minutes=5))
        with pytest.raises(NotAuthenticated):
            token_service.decode(issued.token)
