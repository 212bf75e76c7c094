"""Date and number formats for the languages Django has none for (Kazakh, Urdu, Belarusian): settings'
FORMAT_MODULE_PATH names this package, and Django's own modules serve every other language."""
