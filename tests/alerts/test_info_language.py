"""Which info block of an alert a reader is shown: the reader's language, else English (the working language),
else the first."""

from __future__ import annotations

from accord.alerts import mapping
from tests.alerts.support import cap, info


def test_the_readers_language_then_english_then_the_first() -> None:
    message = cap(
        info("ru-RU", headline="Холера"), info("en-US", headline="Cholera"), info("kk-KZ", headline="Тырысқақ")
    )
    assert mapping.info_in(message, "kk")["headline"] == "Тырысқақ"
    assert mapping.info_in(message, "ru")["headline"] == "Холера"
    assert mapping.info_in(message, "zh-hans")["headline"] == "Cholera"  # no Chinese block: English, not Russian
    assert mapping.info_in(message, "hi")["headline"] == "Cholera"
    without_english = cap(info("ru-RU", headline="Холера"), info("kk-KZ", headline="Тырысқақ"))
    assert mapping.info_in(without_english, "zh-hans")["headline"] == "Холера"
    assert mapping.info_in({"info": []}, "en") == {}
