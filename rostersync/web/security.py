"""Small security primitives of the web server: passwords, tokens, masks, times.

* passwords are hashed with argon2id (``argon2-cffi``'s defaults);
* session and intake tokens are 256 random bits, handed out once and stored
  only as their SHA-256 hash;
* :func:`mask` shows at most the last four characters of a secret.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("rostersync: no such user")


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash new passwords with ``hasher``'s parameters (tests use cheaper ones)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("rostersync: no such user")

MIN_PASSWORD_LENGTH = 12


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends the same argon2 time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why ``password`` is too weak for a staff account, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if password.strip() != password:
        return "the password must not start or end with spaces"
    return None


def new_token() -> str:
    """A URL-safe token carrying 256 random bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time string equality (False when either is missing)."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def mask(secret: str | None) -> str:
    """``"••••WXYZ"``: at most the last four characters of a secret (none when it is short)."""
    if not secret:
        return ""
    tail = secret[-4:] if len(secret) >= 12 else ""
    return "••••" + tail


def last4(secret: str | None) -> str:
    """The last four characters of a long secret, else nothing."""
    return secret[-4:] if secret and len(secret) >= 12 else ""
