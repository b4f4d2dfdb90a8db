"""Ed25519 keys for bundles: generate, save, load, and name them.

A private key is a PEM file (PKCS#8, 0600); its public key is one line
``ed25519:<base64 of the 32 raw bytes>`` (the ``.pub`` beside it), the form
a site lists among its trusted keys. A key's id is the first 16 hex digits
of the SHA-256 of its raw public bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bms.errors import ConfigError

PREFIX = "ed25519:"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return PREFIX + base64.b64encode(_raw(public)).decode("ascii")


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from its ``ed25519:...`` line; a ConfigError naming what is wrong."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise ConfigError(f"public key {text[:24]!r}...: not an ed25519:<base64> key")
    try:
        raw = base64.b64decode(text[len(PREFIX) :], validate=True)
    except binascii.Error:
        raise ConfigError(f"public key {text[:24]!r}...: not valid base64") from None
    if len(raw) != 32:
        raise ConfigError(f"public key {text[:24]!r}...: {len(raw)} bytes, an Ed25519 key has 32")
    return Ed25519PublicKey.from_public_bytes(raw)


def generate_key(path: Path | str) -> str:
    """Write a new private key to ``path`` (0600) and its public key to ``path.pub``; returns the public line."""
    path = Path(path)
    if path.exists():
        raise ConfigError(f"{path}: already exists (not overwriting a key)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public = public_key_text(key)
    path.with_name(path.name + ".pub").write_text(public + "\n")
    return public


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ConfigError(f"{path}: key file not found") from None
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        raise ConfigError(f"{path}: not an unencrypted PEM private key ({err})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: not an Ed25519 key")
    return key
