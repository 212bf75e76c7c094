"""Canonical JSON (RFC 8785), content hashes and Ed25519 signatures.

Signed envelopes carry no floats: two implementations may print the same float
differently, and a signature over bytes that a peer cannot reproduce is worthless.
Numbers in signed bodies are integers (within the I-JSON safe range) or strings.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

SIGNATURE_ALG = "Ed25519"
HASH_PREFIX = "sha256:"
_MAX_SAFE_INT = 2**53 - 1


class CanonicalError(ValueError):
    """A value cannot be put into a signed envelope."""


def check_signable(value: Any, path: str = "$") -> None:
    """Refuse floats, non-string keys, and integers outside the I-JSON range, naming where."""
    _scan(value, path)


def _scan(value: Any, path: str = "$") -> bool:
    """check_signable's walk; returns whether every object key lies in the Basic Multilingual Plane (then the
    standard library's sorted, compact JSON is byte for byte RFC 8785, see canonical_bytes).

    A loop over a stack that builds no path (it runs on every version written). Anything but exactly str, bool,
    None, int, dict, list or tuple sends the whole value to _where, which names the place of a refused one, or
    accepts it (subclasses), and then the value is left to rfc8785 (False)."""
    plain = True
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    _where(value, path)
                    return False
                if plain and not key.isascii() and any(ord(char) > 0xFFFF for char in key):
                    plain = False
                push(child)
        elif kind is list or kind is tuple:
            extend(item)
        elif kind is int:
            if item > _MAX_SAFE_INT or item < -_MAX_SAFE_INT:
                _where(value, path)
        else:
            _where(value, path)  # a subclass, a float, or something that cannot be signed: the careful walk
            return False
    return plain


def _where(value: Any, path: str) -> None:
    """The careful walk: raise CanonicalError naming where the first refused value is (subclasses of str, int,
    dict, list and tuple are accepted, as the encoders write them)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed in signed records; use a string or an integer")
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise CanonicalError(f"{path}: integer {value} is outside the range -(2^53-1)..2^53-1")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object keys must be strings")
            _where(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _where(item, f"{path}[{index}]")
        return
    raise CanonicalError(f"{path}: {type(value).__name__} cannot be signed")


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 (JCS) bytes of a signable value.

    For the values signed here (no floats: check_signable refuses them) JCS differs from the standard library's
    `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` in one point only: JCS orders object
    keys by their UTF-16 code units, Python by code points, and the two orders disagree only for keys with
    characters outside the Basic Multilingual Plane. Both escape exactly `"`, `\\` and the C0 controls (with the
    same short forms and lower-case `\\u00xx`), write integers, true, false and null alike, and write every other
    character as UTF-8. So the C encoder is used when no key leaves the BMP, and `rfc8785` otherwise (and for
    text that is not valid Unicode, which it refuses). tests/lib/test_canonical.py checks the two agree."""
    if _scan(value):
        try:
            return _DUMPS(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # an unpaired surrogate: rfc8785 refuses it with its own error
    return rfc8785.dumps(value)


_DUMPS = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def content_hash(data: bytes) -> str:
    return HASH_PREFIX + hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def private_key_from_text(text: bytes) -> Ed25519PrivateKey:
    """Load a key from PEM (PKCS#8) or from base64 of the raw 32-byte seed."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    stripped = text.strip()
    if stripped.startswith(b"-----BEGIN"):
        key = load_pem_private_key(stripped, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CanonicalError("the private key is not an Ed25519 key")
        return key
    try:
        seed = base64.b64decode(stripped, validate=True)
    except ValueError:
        raise CanonicalError("the private key is neither PEM nor base64") from None
    if len(seed) != 32:
        raise CanonicalError("a base64 Ed25519 private key must decode to 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def key_id(public_b64: str) -> str:
    """A short, stable identifier of a public key: 'ed25519:' + 16 hex digits of its SHA-256."""
    return "ed25519:" + hashlib.sha256(unb64(public_b64)).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return b64(key.sign(data))


def verify(public_b64: str, data: bytes, signature_b64: str) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(unb64(public_b64))
        public.verify(unb64(signature_b64), data)
    except (InvalidSignature, ValueError):
        return False
    return True
