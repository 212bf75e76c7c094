"""The pure-Python helpers: canonical JSON, signatures, and strict settings parsers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.lib import canonical
from accord.lib.env import ConfigError, env_bool, env_choice, env_int, env_list, env_url

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_canonical_bytes_are_stable_and_parse_back(value: object) -> None:
    data = canonical.canonical_bytes(value)
    assert json.loads(data) == value
    assert canonical.canonical_bytes(json.loads(data)) == data


@given(st.dictionaries(st.text(), st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1), max_size=8))
def test_key_order_does_not_change_the_bytes(value: dict[str, int]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert canonical.canonical_bytes(value) == canonical.canonical_bytes(reordered)


def test_rfc8785_example_ordering_and_escaping() -> None:
    assert (
        canonical.canonical_bytes({"b": 1, "a": "\u00e9\n", "c": [True, None]})
        == b'{"a":"\xc3\xa9\\n","b":1,"c":[true,null]}'
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"cases": 1.5}, "$.cases: floats are not allowed"),
        ({"a": [1, {"b": 2.0}]}, "$.a[1].b: floats"),
        ({"n": 2**60}, "outside the range"),
        ({1: "x"}, "keys must be strings"),
        ({"s": {1, 2}}, "cannot be signed"),
    ],
)
def test_unsignable_values_are_refused_naming_where(value: object, message: str) -> None:
    with pytest.raises(canonical.CanonicalError, match=message.replace("$", r"\$").replace("[", r"\[")):
        canonical.canonical_bytes(value)


def test_signatures_verify_only_for_the_same_bytes_and_key() -> None:
    key = canonical.generate_private_key()
    public = canonical.public_key_b64(key)
    signature = canonical.sign(key, b"payload")
    assert canonical.verify(public, b"payload", signature)
    assert not canonical.verify(public, b"payloaD", signature)
    other = canonical.public_key_b64(canonical.generate_private_key())
    assert not canonical.verify(other, b"payload", signature)
    assert not canonical.verify(public, b"payload", "not base64!")
    assert canonical.key_id(public).startswith("ed25519:") and len(canonical.key_id(public)) == 24


def test_private_keys_load_from_pem_and_base64() -> None:
    key = canonical.generate_private_key()
    pem = canonical.private_key_to_pem(key)
    assert canonical.public_key_b64(canonical.private_key_from_text(pem)) == canonical.public_key_b64(key)
    with pytest.raises(canonical.CanonicalError, match="32 bytes"):
        canonical.private_key_from_text(b"c2hvcnQ=")
    with pytest.raises(canonical.CanonicalError, match="neither PEM nor base64"):
        canonical.private_key_from_text(b"%%%")


def test_content_hash_form() -> None:
    assert canonical.content_hash(b"") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_settings_parsers_are_strict() -> None:
    assert env_bool("X", False, {"X": "yes"}) is True
    assert env_bool("X", True, {}) is True
    with pytest.raises(ConfigError, match="X='maybe' is not a boolean"):
        env_bool("X", False, {"X": "maybe"})
    assert env_int("N", 5, minimum=1, environ={"N": "7"}) == 7
    with pytest.raises(ConfigError, match="below the minimum"):
        env_int("N", 5, minimum=1, environ={"N": "0"})
    with pytest.raises(ConfigError, match="not a whole number"):
        env_int("N", 5, environ={"N": "5.5"})
    with pytest.raises(ConfigError, match="not one of"):
        env_choice("E", "a", ("a", "b"), {"E": "c"})
    with pytest.raises(ConfigError, match="empty item"):
        env_list("L", [], {"L": "a,,b"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("accord.example.kz", "must be an absolute http:// or https:// address"),
        ("ftp://accord.example.kz", "must be an absolute http:// or https:// address"),
        ("https://", "must be an absolute http:// or https:// address"),
        ("https://accord.example.kz:99999", "is not a URL"),
        ("https://accord.example.kz/?a=1", "plain base address"),
        ("https://user@accord.example.kz", "plain base address"),
        ("https://accord.example.kz/a b", "plain base address"),
    ],
)
def test_the_public_url_is_an_absolute_http_address(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        env_url("ACCORD_PUBLIC_URL", {"ACCORD_PUBLIC_URL": value})
    assert str(raised.value).startswith(f"ACCORD_PUBLIC_URL={value!r}")


def test_the_public_url_loses_its_trailing_slash() -> None:
    assert env_url("ACCORD_PUBLIC_URL", {"ACCORD_PUBLIC_URL": " https://accord.example.kz/ "}) == (
        "https://accord.example.kz"
    )
    assert env_url("ACCORD_PUBLIC_URL", {"ACCORD_PUBLIC_URL": "http://10.0.0.5:8000/accord/"}) == (
        "http://10.0.0.5:8000/accord"
    )
    assert env_url("ACCORD_PUBLIC_URL", {}) is None


def test_production_hashes_passwords_with_argon2() -> None:
    from django.conf import settings

    from accord import settings as accord_settings

    assert accord_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.utils import translation

    with translation.override("en"):
        names = [(code, str(name)) for code, name in settings.LANGUAGES]
    assert names == [
        ("en", "English"),
        ("zh-hans", "Chinese"),
        ("ru", "Russian"),
        ("kk", "Kazakh"),
        ("ky", "Kyrgyz"),
        ("tg", "Tajik"),
        ("uz", "Uzbek"),
        ("hi", "Hindi"),
        ("ur", "Urdu"),
        ("fa", "Persian"),
        ("be", "Belarusian"),
    ]


def test_lib_does_not_import_django() -> None:
    from pathlib import Path

    lib = Path(canonical.__file__).parent
    for source in lib.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "import django" not in text and "from django" not in text, source
