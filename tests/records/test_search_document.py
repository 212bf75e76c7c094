"""A record's search document, worked out word by word (each word's tokens cached), is the tokens of `_pieces`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.records import search


def _by_pieces(text: str) -> str:
    """The document as the query side splits text (search._pieces), token by token."""
    tokens: list[str] = []
    for is_han, piece in search._pieces(text):
        if is_han:
            tokens.extend(search._bigrams(piece))
            continue
        tokens.append(piece)
        stem = search._stem(piece)
        if stem != piece and stem:
            tokens.append(stem)
    return " ".join(tokens)


_MIXED = st.text(
    st.sampled_from(list("ab Zé_-1 ,.\n") + list("霍乱疫情喀什") + list("холераВСП") + ["ﬁ", "Ⅻ", "İ", "\u3400", "ß"]),
    max_size=40,
)


@settings(max_examples=300)
@given(_MIXED | st.text(max_size=30))
def test_the_document_is_the_tokens_of_the_pieces(text: str) -> None:
    assert search.document(text) == _by_pieces(text)


def test_words_mixing_scripts() -> None:
    text = "Floods 新疆喀什地区Cholera холеры2024年 FLOODING floods"
    assert search.document(text) == _by_pieces(text)
    assert search.document(text).split() == [
        *("floods", "flood", "新疆", "疆喀", "喀什", "什地", "地区", "cholera", "холеры2024", "年"),
        *("flooding", "flood", "floods", "flood"),
    ]
