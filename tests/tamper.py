"""Tampering with a signed token so that its signature bytes always change.

Replacing the last characters of a base64url signature is not enough: the last character of an
Ed25519 signature carries 2 data bits and 4 padding bits, so whether the bytes change depends on the
random key and the token (issue 10: a test failed by chance this way)."""

from __future__ import annotations

import base64


def flip_signature_byte(token: str, index: int = 0) -> str:
    """The token with one bit of its signature's byte ``index`` flipped, canonically re-encoded."""
    head, sig = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[index] ^= 0x01
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode('ascii')}"
