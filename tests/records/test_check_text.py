"""check_text's fast path (the JSON text and two regular expressions) refuses exactly what the walk refuses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.records import kinds
from accord.records.errors import ActionError

_TEXT = st.text(st.characters(codec=None), max_size=8) | st.sampled_from(
    ["\\", "\\\\b", "\\b", "a\x08", "\x7f", "\t\n"]
)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=25,
)


def _walk_refuses(value: Any) -> bool:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kinds, "_surely_clean", lambda _: False)
        try:
            kinds.check_text(value)
        except ActionError:
            return True
    return False


@settings(max_examples=400)
@given(_VALUES)
def test_the_fast_path_never_lets_through_what_the_walk_refuses(value: Any) -> None:
    if _walk_refuses(value):
        assert not kinds._surely_clean(value)


def test_deep_nesting_and_each_control() -> None:
    deep: Any = "x"
    for _ in range(70):
        deep = [deep]
    assert not kinds._surely_clean(deep)
    with pytest.raises(ActionError, match="nested more than 64"):
        kinds.check_text(deep)
    for char in ["\0", "\x01", "\x08", "\x0c", "\x1f", "\x7f", "\x85", "\ud800"]:
        with pytest.raises(ActionError):
            kinds.check_text({"a": [f"ok{char}"]})
        with pytest.raises(ActionError):
            kinds.check_text({f"k{char}": 1})
    kinds.check_text({"text": "tab\there\nline\r\\b \\\\u0001 é 中文 \U0001f600", "deep": [[[[1]]]]})
    assert kinds._surely_clean({"text": "tab\there\nline\r\\b é"})


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_BRACKETY = st.text(st.sampled_from('[]{}"\\:,ab\n\t\x01'), max_size=6)
_NESTED = st.recursive(
    st.none() | st.integers() | _BRACKETY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_BRACKETY, inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=400)
@given(_NESTED)
def test_the_nesting_read_from_the_json_text_is_the_values_depth(value: Any) -> None:
    # Strings full of brackets, quotes and backslashes (escaped in the text) never count as nesting.
    assert kinds._nesting(kinds._JSON_TEXT(value)) == _depth(value)


def test_deep_values_with_many_brackets_are_told_apart() -> None:
    wide = {"cap": {"info": [{"area": [{"polygon": ["[{" * 40 + '"\\'] * 3} for _ in range(40)]}]}}
    assert kinds._surely_clean(wide)  # more than 64 brackets, in strings and structure, but only 6 deep
    deep: Any = {"a": "]]]}}}" * 30}
    for _ in range(65):
        deep = {"k": [deep, "[" * 3]}
    assert not kinds._surely_clean(deep)
