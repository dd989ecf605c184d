"""Password hashing: scrypt, salted, stored with its parameters, compared in constant time."""

import base64

import pytest

from riskmap.security import hash_password, verify_password


def test_hash_then_verify():
    stored = hash_password("correct horse battery staple")
    assert verify_password("correct horse battery staple", stored)


def test_wrong_password_is_rejected():
    stored = hash_password("s3cret-Passw0rd")
    assert not verify_password("s3cret-passw0rd", stored)
    assert not verify_password("s3cret-Passw0rd ", stored)
    assert not verify_password("", stored)


def test_stored_form_carries_scheme_parameters_salt_and_hash():
    scheme, n, r, p, salt, digest = hash_password("pw").split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) >= 16


def test_two_hashes_of_the_same_password_differ_and_both_verify():
    a, b = hash_password("same password"), hash_password("same password")
    assert a != b
    assert a.split("$")[4] != b.split("$")[4]  # different salts
    assert verify_password("same password", a)
    assert verify_password("same password", b)


def test_non_ascii_password():
    stored = hash_password("pässwörd-ключ")
    assert verify_password("pässwörd-ключ", stored)
    assert not verify_password("passwörd-ключ", stored)


def test_empty_password_refused():
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text",
        "bcrypt$16384$8$1$c2FsdA==$aGFzaA==",
        "scrypt$16384$8$1$not base64!$aGFzaA==",
        "scrypt$abc$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",
        "scrypt$1000$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",  # n not 2**k
        "scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",  # huge n
    ],
)
def test_malformed_stored_hash_never_verifies_and_never_raises(stored):
    assert verify_password("anything", stored) is False


def test_tampered_hash_does_not_verify():
    parts = hash_password("pw").split("$")
    digest = bytearray(base64.b64decode(parts[5]))
    digest[0] ^= 1
    parts[5] = base64.b64encode(bytes(digest)).decode()
    assert not verify_password("pw", "$".join(parts))
