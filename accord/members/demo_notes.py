"""The demo's notes in the members' own languages (`accord demo`): one from each of eight members' ministries of
health, in Kazakh, Kyrgyz, Tajik, Uzbek, Hindi, Urdu, Persian and Belarusian, shared with every member (TLP:GREEN),
so that search, the records list and the pages show text in every language of the interface. Each has its English
title beside it for a reviewer; native-speaker review is welcome, as for the catalogues."""

from __future__ import annotations

# (member, language, title, text), with the English title in a comment above each.
NOTES: tuple[tuple[str, str, str, str], ...] = (
    # Measures to prevent tick-borne encephalitis in East Kazakhstan Region
    (
        "KZ",
        "kk",
        "Шығыс Қазақстан облысында кене энцефалитінің алдын алу шаралары",
        (
            "Денсаулық сақтау министрлігі Шығыс Қазақстан облысының тұрғындарына орманға барғанда "
            "қорғаныш киім киюді және кене шаққан жағдайда дереу медициналық көмекке жүгінуді ұсынады."
        ),
    ),
    # Warning of mudflow danger in Jalal-Abad Region
    (
        "KG",
        "ky",
        "Жалал-Абад облусунда сел жүрүү коркунучу жөнүндө эскертүү",
        (
            "Өзгөчө кырдаалдар министрлиги катуу жаан-чачындан улам тоолуу аймактарда сел жүрүү "
            "коркунучу жогорулагандыгын эскертет. Тургундардан дарыялардын жээгине жакындабоо суралат."
        ),
    ),
    # Start of the measles vaccination campaign
    (
        "TJ",
        "tg",
        "Оғози маъракаи эмгузаронӣ бар зидди сурхча",
        (
            "Вазорати тандурустӣ ва ҳифзи иҷтимоии аҳолӣ хабар медиҳад, ки аз 1 апрел дар ҳамаи шаҳру "
            "ноҳияҳои кишвар эмгузаронии ройгони кӯдакони 1–5-сола бар зидди сурхча оғоз мегардад."
        ),
    ),
    # Recommendations to the population during extreme heat
    (
        "UZ",
        "uz",
        "Jazirama issiq havo sharoitida aholiga tavsiyalar",
        (
            "Sogʻliqni saqlash vazirligi havo harorati +42°C gacha koʻtarilishi kutilayotganini maʼlum "
            "qiladi. Aholiga soat 11:00 dan 17:00 gacha quyosh ostida boʻlmaslik va koʻproq suv ichish "
            "tavsiya etiladi."
        ),
    ),
    # Health advisory on dengue prevention
    (
        "IN",
        "hi",
        "डेंगू से बचाव हेतु स्वास्थ्य परामर्श",
        (
            "स्वास्थ्य एवं परिवार कल्याण मंत्रालय ने मानसून के दौरान डेंगू के मामलों में वृद्धि को "
            "देखते हुए नागरिकों से घरों के आसपास पानी जमा न होने देने और तेज़ बुखार होने पर तुरंत "
            "चिकित्सक से परामर्श लेने का आग्रह किया है।"
        ),
    ),
    # Risk of waterborne diseases in flood-affected areas
    (
        "PK",
        "ur",
        "سیلاب سے متاثرہ علاقوں میں پانی سے پھیلنے والی بیماریوں کا خطرہ",
        (
            "وزارتِ قومی صحت نے سندھ کے سیلاب زدہ اضلاع کے رہائشیوں کو ہدایت کی ہے کہ صرف ابلا ہوا یا "
            "صاف پانی استعمال کریں اور اسہال کی صورت میں فوری طور پر قریبی مرکزِ صحت سے رجوع کریں۔"
        ),
    ),
    # Warning about rising brucellosis (Malta fever) cases in spring
    (
        "IR",
        "fa",
        "هشدار درباره افزایش موارد تب مالت در فصل بهار",
        (
            "وزارت بهداشت، درمان و آموزش پزشکی از شهروندان درخواست می‌کند از مصرف شیر و لبنیات "
            "غیرپاستوریزه خودداری کنند و دام‌های خود را برای واکسیناسیون به شبکه دامپزشکی معرفی نمایند."
        ),
    ),
    # On the seasonal rise in influenza and acute respiratory viral infections
    (
        "BY",
        "be",
        "Аб сезонным павышэнні захворвальнасці на грып і ВРВІ",
        (
            "Міністэрства аховы здароўя інфармуе аб павышэнні захворвальнасці на грып у Мінску і "
            "абласных цэнтрах. Грамадзянам рэкамендуецца прайсці вакцынацыю, а пры першых сімптомах "
            "хваробы не выходзіць на працу і выклікаць урача."
        ),
    ),
)
