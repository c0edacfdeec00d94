"""Credentials and secrets: random keys shown once and stored as SHA-256, secrets sealed with MultiFernet."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

API_KEY_PREFIX = "lgp_"
LISTENER_TOKEN_PREFIX = "lgpl_"  # noqa: S105 (a prefix, not a secret)
VISIBLE_PREFIX_CHARS = 8  # shown after "lgp_": enough to tell keys apart, useless to an attacker


def new_credential(kind_prefix: str) -> tuple[str, str, str]:
    """A fresh random credential: (plaintext shown once, visible prefix, hash to store)."""
    plaintext = kind_prefix + secrets.token_urlsafe(32)
    return plaintext, plaintext[: len(kind_prefix) + VISIBLE_PREFIX_CHARS], hash_credential(plaintext)


def hash_credential(plaintext: str) -> str:
    """SHA-256 is right for high-entropy random credentials (no password stretching needed)."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class SecretBox:
    """Encrypts JSON values with the first key; decrypts with any key (rotation)."""

    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def seal(self, value: Any) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def open(self, token: str) -> Any:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as e:
            raise ValueError("a sealed value cannot be decrypted with the configured keys") from e

    def reseal(self, token: str) -> str:
        """The same value encrypted with the current first key (MultiFernet.rotate)."""
        return self._fernet.rotate(token.encode()).decode()
