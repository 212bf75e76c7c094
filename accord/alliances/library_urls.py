"""The web pages of the alliances' library and of the law alliance's legal register."""

from django.urls import URLPattern, path

from accord.alliances import library_legal_views, library_views

urlpatterns: list[URLPattern] = [
    path("library/", library_views.search, name="library"),
    path("library/new/", library_views.add, name="library-new"),
    path("library/<str:record_uuid>/", library_views.document, name="library-document"),
    path("library/<str:record_uuid>/files/<str:name>", library_views.download, name="library-file"),
    path("library/<str:record_uuid>/withdraw/", library_views.withdraw, name="library-withdraw"),
    path("legal-register/", library_legal_views.register, name="legal-register"),
    path("legal-register/new/", library_legal_views.add, name="legal-instrument-new"),
    path("legal-register/<str:record_uuid>/", library_legal_views.entry, name="legal-instrument"),
    path("legal-register/<str:record_uuid>/edit/", library_legal_views.edit, name="legal-instrument-edit"),
    path("legal-register/<str:record_uuid>/withdraw/", library_legal_views.withdraw, name="legal-instrument-withdraw"),
]
