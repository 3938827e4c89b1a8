"""Encryption of confidential fields and signing of evidence manifests.

Keys live in the instance configuration (``DATA_ENCRYPTION_KEYS``,
``EVIDENCE_SIGNING_KEY``), never in the database, so a database dump alone
reveals no interview note and no complainant."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app


class SealError(Exception):
    """A sealed value cannot be opened with the configured keys."""


def new_data_key() -> str:
    return Fernet.generate_key().decode()


def new_signing_key() -> str:
    from cryptography.hazmat.primitives import serialization

    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode()


class Sealer:
    """Fernet (AES-128-CBC + HMAC) with key rotation: the first key seals,
    every key opens."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("no data encryption key configured")
        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])

    def seal(self, text: str | None) -> bytes | None:
        if text is None or text == "":
            return None
        return self._fernet.encrypt(text.encode("utf-8"))

    def open(self, token: bytes | None) -> str:
        if not token:
            return ""
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise SealError("this value was sealed with a key that is not configured") from None

    def seal_bytes(self, data: bytes) -> bytes:
        """Seal a file's bytes as they are (no text round trip)."""
        return self._fernet.encrypt(data)

    def open_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(bytes(token))
        except InvalidToken:
            raise SealError("this value was sealed with a key that is not configured") from None

    def reseal(self, token: bytes | None) -> bytes | None:
        """Re-encrypt under the first (newest) key."""
        if not token:
            return token
        try:
            return self._fernet.rotate(bytes(token))
        except InvalidToken:
            raise SealError("this value was sealed with a key that is not configured") from None


def sealer() -> Sealer:
    return Sealer(current_app.config["DATA_ENCRYPTION_KEYS"])


def signing_key(config_value: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(config_value))


def sign(config_value: str, payload: bytes) -> str:
    return base64.b64encode(signing_key(config_value).sign(payload)).decode()


def verify(public_key: Ed25519PublicKey, payload: bytes, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), payload)
        return True
    except (InvalidSignature, ValueError):
        return False
