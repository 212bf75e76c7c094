"""Date and number formats of Kazakh, Urdu and Belarusian, which Django has none for, and of Kyrgyz (dates in
numbers): settings' FORMAT_MODULE_PATH names this package, and Django's own modules serve every other language."""
