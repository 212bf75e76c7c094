"""canonical_bytes takes the standard library's encoder where it is provably RFC 8785: check it against rfc8785."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.lib.canonical import CanonicalError, canonical_bytes

# Every character (astral ones, controls, U+2028, DEL, unpaired surrogates among them).
_TEXT = st.text(st.characters(codec=None), max_size=12)
_KEYS = st.one_of(st.text(max_size=6), st.sampled_from(["a", "\U0001f600", "\uffff", "\ue000", "\U00010000", "é"]))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1), _TEXT)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=30,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return rfc8785.CanonicalizationError


@settings(max_examples=500)
@given(_VALUES)
def test_same_bytes_as_rfc8785(value: Any) -> None:
    expected = _reference(value)
    if expected is rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_bytes(value)
    else:
        assert canonical_bytes(value) == expected


def test_astral_keys_sort_by_utf16() -> None:
    # Code point order puts U+FFFF first; UTF-16 (JCS) puts the surrogate pair of U+1F600 first.
    value = {"\uffff": 1, "\U0001f600": 2}
    assert canonical_bytes(value) == rfc8785.dumps(value) == '{"\U0001f600":2,"\uffff":1}'.encode()


def test_floats_and_big_integers_refused() -> None:
    with pytest.raises(CanonicalError, match=r"\$\.a\[0\]: floats"):
        canonical_bytes({"a": [1.5]})
    with pytest.raises(CanonicalError, match="outside the range"):
        canonical_bytes({"a": 2**53})


def test_subclasses_are_written_as_rfc8785_writes_them() -> None:
    import enum
    from collections import OrderedDict

    class Colour(enum.IntEnum):
        RED = 1

    class Name(enum.StrEnum):
        A = "a"

    value: Any = OrderedDict([("z", Colour.RED), ("a", [Name.A, (1, 2)])])
    assert canonical_bytes(value) == rfc8785.dumps(value)
    with pytest.raises(CanonicalError, match=r"\$\.x\.y: floats"):
        canonical_bytes({"x": OrderedDict(y=0.5)})
    with pytest.raises(CanonicalError, match="keys must be strings"):
        canonical_bytes({"x": {1: "a"}})
