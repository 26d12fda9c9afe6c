from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from adapters.security.jwt_tokens import JwtTokenService
from adapters.security.secrets import load_or_create_secret
from domain.errors import NotAuthenticated
from tests.contracts.token_service_contract import TokenServiceContract, a_user
from tests.fakes import FakeClock

pytestmark = pytest.mark.integration

SECRET = b"s" * 64


class TestJwtTokenServiceContract(TokenServiceContract):
    @pytest.fixture
    def token_service(self, clock: FakeClock) -> JwtTokenService:
        return JwtTokenService(SECRET, clock=clock)


@pytest.fixture
def service(clock: FakeClock) -> JwtTokenService:
    return JwtTokenService(SECRET, clock=clock)


def valid_claims(clock: FakeClock, **changes: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": "breastscan",
        "aud": "breastscan-api",
        "sub": "0b8f8e1e-2f4e-4a8e-9d1c-6a1f3c1d2e3f",
        "iat": now,
        "exp": now + 600,
        "jti": "abc",
        "ver": 0,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(service: JwtTokenService, token: str) -> str:
    with pytest.raises(NotAuthenticated) as raised:
        service.decode(token)
    return raised.value.message


def test_a_hand_made_valid_token_is_accepted(service: JwtTokenService, clock) -> None:
    token = jwt.encode(valid_claims(clock), SECRET, algorithm="HS256")
    assert service.decode(token).jti == "abc"


def test_claims_carry_issuer_audience_and_times(service: JwtTokenService, clock) -> None:
    user = a_user(token_version=7)
    issued = service.issue(user)
    header = jwt.get_unverified_header(issued.token)
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert claims["iss"] == "breastscan"
    assert claims["aud"] == "breastscan-api"
    assert claims["sub"] == str(user.id)
    assert claims["ver"] == 7
    assert claims["exp"] - claims["iat"] == 30 * 60
    assert claims["iat"] == int(clock.now().timestamp())


def test_expired_token_is_refused_with_a_clear_message(service, clock) -> None:
    issued = service.issue(a_user())
    clock.advance(timedelta(minutes=30, seconds=5))
    assert service.decode(issued.token)  # within the 10 s leeway
    clock.advance(timedelta(seconds=10))
    assert "expired" in refused(service, issued.token)


def test_token_from_the_future_is_refused(service, clock) -> None:
    token = jwt.encode(valid_claims(clock, iat=int(clock.now().timestamp()) + 3600), SECRET)
    assert "not valid yet" in refused(service, token)


def test_forged_signature_is_refused(service, clock) -> None:
    forged = jwt.encode(valid_claims(clock), b"f" * 64, algorithm="HS256")
    assert "signature" in refused(service, forged)


def test_alg_none_is_refused(service, clock) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(valid_claims(clock)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        message = refused(service, token)
        assert "algorithm" in message or "malformed" in message
    assert "algorithm" in refused(service, f"{header}.{payload}.")


def test_other_hmac_algorithms_are_refused(service, clock) -> None:
    token = jwt.encode(valid_claims(clock), SECRET, algorithm="HS512")
    assert "algorithm" in refused(service, token)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "evil"}, "issued by someone else"),
        ({"sub": "not-a-uuid"}, "subject"),
        ({"ver": "1"}, "'ver'"),
        ({"ver": -1}, "'ver'"),
        ({"jti": 5}, "'jti'"),
        ({"exp": "tomorrow"}, "'exp'"),
        ({"sub": 42}, "subject"),
    ],
)
def test_wrong_claims_are_refused(service, clock, change, expected) -> None:
    token = jwt.encode(valid_claims(clock, **change), SECRET, algorithm="HS256")
    assert expected in refused(service, token)


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "iat", "exp", "jti", "ver"])
def test_missing_claims_are_refused(service, clock, missing) -> None:
    claims = valid_claims(clock)
    del claims[missing]
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert f"'{missing}'" in refused(service, token)


def test_tokens_signed_by_another_secret_are_refused(clock) -> None:
    issued = JwtTokenService(b"a" * 32, clock=clock).issue(a_user())
    assert "signature" in refused(JwtTokenService(b"b" * 32, clock=clock), issued.token)


@pytest.mark.parametrize("secret", [b"", b"short", "x" * 31])
def test_short_secrets_are_refused(secret) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        JwtTokenService(secret)


def test_secret_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jwt-secret"
    first = load_or_create_secret(path)
    assert len(first) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert list(path.parent.iterdir()) == [path]  # no temporary files left behind
    JwtTokenService(first)


def test_secret_file_permissions_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "jwt-secret"
    path.write_text("ab" * 40)
    path.chmod(0o644)
    assert load_or_create_secret(path) == bytes.fromhex("ab" * 40)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(("content", "expected"), [("zz" * 40, "hex"), ("ab" * 8, "at least")])
def test_bad_secret_files_are_refused(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "jwt-secret"
    path.write_text(content)
    with pytest.raises(ValueError, match=expected):
        load_or_create_secret(path)


def test_processes_racing_to_create_the_secret_agree(tmp_path: Path) -> None:
    path = tmp_path / "jwt-secret"
    script = (
        "import sys; from pathlib import Path; "
        "from adapters.security.secrets import load_or_create_secret; "
        "print(load_or_create_secret(Path(sys.argv[1])).hex())"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, env=env, text=True
        )
        for _ in range(4)
    ]
    secrets_seen = {worker.communicate(timeout=60)[0].strip() for worker in workers}
    assert len(secrets_seen) == 1
    assert bytes.fromhex(secrets_seen.pop()) == load_or_create_secret(path)
