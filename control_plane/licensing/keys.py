"""Ed25519 keys for license tokens: the embedded lgp public key, self-issued keys, key ids.

A license token names its signing key with a ``kid`` header: the first 16 hex digits of the
SHA-256 of the raw 32-byte public key. Verification looks the kid up in the trusted key set, so a
token signed by a key we do not trust is told apart ("wrong key") from a token whose bytes were
changed after signing ("tampered").

Trusted keys come from :func:`load_trusted_keys`:

- the embedded lgp project public key (:data:`EMBEDDED_PUBLIC_KEY_B64`), unless
  ``LGP_LICENSE_TRUST_EMBEDDED_KEY=false``;
- every key in ``LGP_LICENSE_PUBLIC_KEYS``: PEM blocks and/or base64 raw 32-byte keys, separated by
  commas or whitespace;
- every key in the file named by ``LGP_LICENSE_PUBLIC_KEYS_FILE`` (same format).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: The lgp project's license public key (raw Ed25519, base64). Only the public half lives here.
EMBEDDED_PUBLIC_KEY_B64 = "ka2kzprwz5KFAY1EPREvKveVumcMDC1mq2+G+7PbjC0="

ENV_PUBLIC_KEYS = "LGP_LICENSE_PUBLIC_KEYS"
ENV_PUBLIC_KEYS_FILE = "LGP_LICENSE_PUBLIC_KEYS_FILE"
ENV_TRUST_EMBEDDED = "LGP_LICENSE_TRUST_EMBEDDED_KEY"

_PEM_RE = re.compile(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.S)


class KeyLoadError(ValueError):
    """A key could not be read; the message says which one and why (never the key material)."""


def raw_public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The ``kid`` of a public key: 16 hex digits of SHA-256 over the raw key bytes."""
    return hashlib.sha256(raw_public_bytes(key)).hexdigest()[:16]


def embedded_public_key() -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(EMBEDDED_PUBLIC_KEY_B64))


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(data: bytes | str, *, source: str = "private key") -> Ed25519PrivateKey:
    """An Ed25519 private key from PKCS#8 PEM, or base64 of the raw 32-byte seed."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        if b"-----BEGIN" in raw:
            key = serialization.load_pem_private_key(raw, password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw.strip(), validate=True))
    except (ValueError, TypeError, binascii.Error) as e:
        raise KeyLoadError(
            f"{source}: not an Ed25519 private key (PEM or base64 raw): {type(e).__name__}"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyLoadError(f"{source}: the key is not an Ed25519 key")
    return key


def load_private_key_file(path: str | Path) -> Ed25519PrivateKey:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise KeyLoadError(f"private key file {p}: {e.strerror}") from None
    return load_private_key(data, source=f"private key file {p}")


def parse_public_keys(text: str, *, source: str = ENV_PUBLIC_KEYS) -> list[Ed25519PublicKey]:
    """Public keys from text holding PEM blocks and/or base64 raw keys (comma/space separated)."""
    keys: list[Ed25519PublicKey] = []
    for i, block in enumerate(_PEM_RE.findall(text)):
        try:
            key = serialization.load_pem_public_key(block.encode())
        except ValueError:
            raise KeyLoadError(f"{source}: PEM block #{i + 1} is not a public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyLoadError(f"{source}: PEM block #{i + 1} is not an Ed25519 key")
        keys.append(key)
    rest = _PEM_RE.sub(" ", text)
    for i, item in enumerate(t for t in re.split(r"[\s,]+", rest) if t):
        try:
            raw = base64.b64decode(item, validate=True)
            keys.append(Ed25519PublicKey.from_public_bytes(raw))
        except (ValueError, binascii.Error):
            raise KeyLoadError(
                f"{source}: item #{i + 1} is neither a PEM public key nor base64 of a raw 32-byte Ed25519 key"
            ) from None
    return keys


def load_public_key_file(path: str | Path) -> list[Ed25519PublicKey]:
    p = Path(path)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise KeyLoadError(f"public key file {p}: {getattr(e, 'strerror', None) or e}") from None
    return parse_public_keys(text, source=f"public key file {p}")


def keyring(keys: list[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {key_id(k): k for k in keys}


def load_trusted_keys(environ: Mapping[str, str] | None = None) -> dict[str, Ed25519PublicKey]:
    """The trusted public keys by kid, from the embedded key and the documented settings."""
    env = os.environ if environ is None else environ
    keys: list[Ed25519PublicKey] = []
    if env.get(ENV_TRUST_EMBEDDED, "true").strip().lower() not in ("0", "false", "no", "off"):
        keys.append(embedded_public_key())
    if env.get(ENV_PUBLIC_KEYS, "").strip():
        keys += parse_public_keys(env[ENV_PUBLIC_KEYS])
    if env.get(ENV_PUBLIC_KEYS_FILE, "").strip():
        keys += load_public_key_file(env[ENV_PUBLIC_KEYS_FILE].strip())
    return keyring(keys)
