"""Password hashing with scrypt (standard library only).

Stored form: `scrypt$<n>$<r>$<p>$<salt base64>$<hash base64>`, so the cost parameters
travel with each hash and can be raised later without invalidating stored passwords.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N = 2**14
R = 8
P = 1
SALT_BYTES = 16
HASH_BYTES = 32

# Bounds on parameters read back from a stored hash, so a corrupt or hostile value
# cannot make verification allocate gigabytes or loop for minutes.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=128 * r * (n + p + 2) + 1024 * 1024,
        dklen=dklen,
    )


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`; a new random salt every call."""
    if not isinstance(password, str):
        raise TypeError("password must be a string")
    if password == "":
        raise ValueError("password must not be empty")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, N, R, P, HASH_BYTES)
    b64 = base64.b64encode
    return f"{SCHEME}${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches `stored`; False for a wrong, empty or malformed input.

    Never raises for bad input, so a login form can call it with whatever it received.
    """
    if not isinstance(password, str) or not isinstance(stored, str) or password == "":
        return False
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return False
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P) or not (
        salt and 16 <= len(expected) <= 128
    ):
        return False
    try:
        actual = _scrypt(password, salt, n, r, p, len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)
