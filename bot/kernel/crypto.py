"""Encryption at rest: AES-256-GCM (an authenticated cipher) under the configured key.

The database holds a key check value so that starting with the wrong key is refused
before anything is decrypted (or, worse, new rows are written under a second key).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.kernel.db import Database

NONCE_BYTES = 12
KEY_CHECK_META = "encryption_key_check"
"""The `meta` row that holds the key check value (the operator's tools read it too)."""


class KeyMismatch(Exception):
    """The configured key is not the one this database was written with."""


class Cipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._key = key

    def encrypt(self, plaintext: str, context: bytes) -> bytes:
        """Encrypt `plaintext`, binding it to `context` (e.g. the row it belongs to), so a
        ciphertext copied to another row fails to decrypt."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), context)

    def decrypt(self, blob: bytes, context: bytes) -> str:
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        return self._aead.decrypt(nonce, sealed, context).decode("utf-8")

    def key_check_value(self) -> str:
        """A value derived from the key that reveals nothing about it."""
        return hmac.new(self._key, b"balint-bot key check v1", hashlib.sha256).hexdigest()


def matches_key_check(stored: object, cipher: Cipher) -> bool:
    """Whether a stored key check value is the one of `cipher`'s key."""
    return hmac.compare_digest(str(stored), cipher.key_check_value())


async def verify_key(database: Database, cipher: Cipher) -> None:
    """Record the key's check value on first use; refuse a different key afterwards."""
    stored = await database.scalar("SELECT value FROM meta WHERE key = ?", (KEY_CHECK_META,))
    if stored is None:
        async with database.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                (KEY_CHECK_META, cipher.key_check_value()),
            )
        return
    if not matches_key_check(stored, cipher):
        raise KeyMismatch(
            "ENCRYPTION_KEY is not the key this database was created with; "
            "restore the backed-up key"
        )


__all__ = [
    "KEY_CHECK_META",
    "Cipher",
    "InvalidTag",
    "KeyMismatch",
    "matches_key_check",
    "verify_key",
]
