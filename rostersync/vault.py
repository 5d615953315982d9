"""Secrets encrypted at rest.

A :class:`Vault` turns a dict of secrets into an opaque token and back, with
AES-256-GCM (``cryptography``). The key is 32 random bytes, written as
urlsafe base64; it comes from ``ROSTERSYNC_SECRET_KEY`` or, when that is not
set, from the key file (``ROSTERSYNC_KEY_FILE``, default ``./rostersync.key``),
which :meth:`Vault.from_settings` creates with mode 0600 when asked to.

A token is ``rsv1.<key id>.<base64(nonce + ciphertext)>``. The key id (the
first bytes of the key's SHA-256) tells "encrypted with another key" apart
from "damaged". An optional ``context`` (e.g. the connection name) is bound
as associated data, so a token copied onto another row does not decrypt.

Decrypted values are registered with :func:`rostersync.log.register_secret`,
so they cannot reach a log line. Neither keys nor secrets appear in messages.

    VaultError (Terminal)
    +-- KeyMissing      no key configured and none created
    +-- BadKey          the configured key is not 32 bytes of urlsafe base64
    +-- WrongKey        the token was encrypted with another key
    +-- DamagedToken    the token is not a vault token or was altered
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets as _secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import Terminal
from .log import register_secret

PREFIX = "rsv1"
_NONCE = 12
_KEY_FIX = (
    "Set ROSTERSYNC_SECRET_KEY (or ROSTERSYNC_KEY_FILE) to the key that was in use when the "
    "secrets were stored; if it is lost, remove the connection and add it again."
)


class VaultError(Terminal):
    """The vault cannot encrypt or decrypt."""


class KeyMissing(VaultError):
    """No encryption key is configured."""


class BadKey(VaultError):
    """The encryption key is not valid."""


class WrongKey(VaultError):
    """The secrets were encrypted with a different key."""


class DamagedToken(VaultError):
    """The stored secrets are damaged."""


def generate_key() -> str:
    """A new random key, as urlsafe base64 text."""
    return base64.urlsafe_b64encode(_secrets.token_bytes(32)).decode()


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode() + b"==")
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise BadKey(
            f"the encryption key in {where} is not 32 bytes of urlsafe base64",
            fix="Generate one with: python -c \"import rostersync.vault as v; print(v.generate_key())\"",
        )
    return key


def _register_all(value: Any) -> None:
    if isinstance(value, str):
        register_secret(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _register_all(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _register_all(item)


class Vault:
    """Encrypts and decrypts dicts of secrets with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise BadKey("the encryption key must be 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(key).hexdigest()[:8]

    def __repr__(self) -> str:
        return f"Vault(key_id={self.key_id!r})"

    @classmethod
    def from_key_text(cls, text: str, *, where: str = "ROSTERSYNC_SECRET_KEY") -> Vault:
        return cls(_decode_key(text, where))

    @classmethod
    def from_settings(cls, settings, *, create: bool = False) -> Vault:
        """The vault of ``settings``: ``secret_key`` if set, else the key file.

        With ``create=True`` a missing key file is created (mode 0600) with a
        new key; otherwise a missing key raises :class:`KeyMissing`.
        """
        if settings.secret_key is not None:
            return cls.from_key_text(settings.secret_key.get_secret_value())
        return cls.from_key_file(Path(settings.key_file), create=create)

    @classmethod
    def from_key_file(cls, path: Path, *, create: bool = False) -> Vault:
        path = Path(path).expanduser()
        if not path.exists():
            if not create:
                raise KeyMissing(
                    f"no encryption key: ROSTERSYNC_SECRET_KEY is not set and {path} does not exist",
                    fix=_KEY_FIX,
                )
            _create_key_file(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise KeyMissing(f"the key file {path} cannot be read ({exc.strerror})", fix=_KEY_FIX) from None
        return cls.from_key_text(text, where=str(path))

    def encrypt(self, secrets: Mapping[str, Any], *, context: str = "") -> str:
        """An opaque token holding ``secrets`` (a JSON-able dict)."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, orjson.dumps(dict(secrets)), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{PREFIX}.{self.key_id}.{body}"

    def decrypt(self, token: str | bytes, *, context: str = "") -> dict[str, Any]:
        """The dict sealed in ``token``; its values are registered as secrets for the logs."""
        if isinstance(token, bytes):
            token = token.decode("ascii", "replace")
        parts = token.split(".") if isinstance(token, str) else []
        if len(parts) != 3 or parts[0] != PREFIX:
            raise DamagedToken("the stored secrets are not a rostersync vault token", fix=_KEY_FIX)
        _, key_id, body = parts
        if key_id != self.key_id:
            raise WrongKey(
                f"the stored secrets were encrypted with another key (key id {key_id}, "
                f"the configured key is {self.key_id})",
                fix=_KEY_FIX,
            )
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode())
            value = orjson.loads(plain)
        except (InvalidTag, binascii.Error, ValueError, orjson.JSONDecodeError):
            raise DamagedToken(
                "the stored secrets cannot be decrypted: they were altered or belong to another record",
                fix=_KEY_FIX,
            ) from None
        if not isinstance(value, dict):
            raise DamagedToken("the stored secrets are not a dict", fix=_KEY_FIX)
        _register_all(value)
        return value


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` with mode 0600; a file created meanwhile by another process wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{_secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)  # atomic, and fails if the file appeared meanwhile
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)
