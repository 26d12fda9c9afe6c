"""Access tokens as HS256 JWTs (PyJWT) with a pinned algorithm and strict claim checks."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from adapters.clock import SystemClock
from application.ports import Clock, IssuedToken, TokenClaims
from domain.errors import NotAuthenticated
from domain.users import User

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key must be at least 256 bits
MAX_TOKEN_LENGTH = 4096
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "jti", "ver")


class JwtTokenService:
    """TokenService port: issues short-lived tokens, decodes them or raises NotAuthenticated.

    Expiry and issued-at are checked against the injected Clock (not PyJWT's own wall clock),
    so tests can move time and every replica that shares the secret agrees on validity.
    """

    def __init__(
        self,
        secret: bytes | str,
        issuer: str = "breastscan",
        audience: str = "breastscan-api",
        ttl: timedelta = timedelta(minutes=30),
        leeway: timedelta = timedelta(seconds=10),
        clock: Clock | None = None,
    ) -> None:
        key = secret.encode() if isinstance(secret, str) else bytes(secret)
        if len(key) < MIN_SECRET_BYTES:
            raise ValueError(
                f"The token signing secret must be at least {MIN_SECRET_BYTES} bytes "
                f"(256 bits); got {len(key)}. Leave it unset to have one generated."
            )
        if ttl <= timedelta(0):
            raise ValueError("Token lifetime must be positive.")
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.leeway = leeway
        self._clock = clock or SystemClock()

    def issue(self, user: User) -> IssuedToken:
        now = self._clock.now().replace(microsecond=0)
        expires_at = now + self.ttl
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user.id),
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": secrets.token_urlsafe(16),
            "ver": user.token_version,
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"typ": "JWT"})
        return IssuedToken(token=token, expires_at=expires_at)

    def decode(self, token: str) -> TokenClaims:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise NotAuthenticated("The access token is missing or malformed.")
        claims = self._verified_claims(token)
        now = self._clock.now().timestamp()
        leeway = self.leeway.total_seconds()
        exp, iat = _number(claims, "exp"), _number(claims, "iat")
        if now >= exp + leeway:
            raise NotAuthenticated("The access token has expired; sign in again.")
        if iat > now + leeway:
            raise NotAuthenticated("The access token is not valid yet.")
        try:
            user_id = UUID(str(claims["sub"]))
        except ValueError:
            raise NotAuthenticated("The access token has an invalid subject.") from None
        version, jti = claims["ver"], claims["jti"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise NotAuthenticated("The access token has an invalid 'ver' claim.")
        if not isinstance(jti, str) or not jti:
            raise NotAuthenticated("The access token has an invalid 'jti' claim.")
        try:
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError):  # an `exp` past the year 9999
            raise NotAuthenticated("The access token has an invalid 'exp' claim.") from None
        return TokenClaims(user_id=user_id, token_version=version, jti=jti, expires_at=expires_at)

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    # exp/iat are checked against the injected clock in decode()
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": True,
                },
            )
        except jwt.InvalidAlgorithmError:
            raise NotAuthenticated(
                "The access token uses an algorithm that is not accepted."
            ) from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("The access token signature is invalid.") from None
        except jwt.InvalidAudienceError:
            raise NotAuthenticated("The access token is meant for another audience.") from None
        except jwt.InvalidIssuerError:
            raise NotAuthenticated("The access token was issued by someone else.") from None
        except jwt.MissingRequiredClaimError as error:
            raise NotAuthenticated(f"The access token lacks the '{error.claim}' claim.") from None
        except InvalidJTIError:
            raise NotAuthenticated("The access token has an invalid 'jti' claim.") from None
        except InvalidSubjectError:
            raise NotAuthenticated("The access token has an invalid subject.") from None
        except jwt.ImmatureSignatureError:
            raise NotAuthenticated("The access token is not valid yet.") from None
        except jwt.PyJWTError:
            raise NotAuthenticated("The access token is malformed.") from None


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NotAuthenticated(f"The access token has an invalid '{name}' claim.")
    return float(value)
