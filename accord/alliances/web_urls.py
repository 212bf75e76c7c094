"""The alliances' web pages: each part brings its own URL list."""

from django.urls import URLPattern

from accord.alliances import library_urls, membership_urls, mobilise_urls, roster_urls, work_urls

urlpatterns: list[URLPattern] = [
    *membership_urls.urlpatterns,
    *roster_urls.urlpatterns,
    *mobilise_urls.urlpatterns,
    *work_urls.urlpatterns,
    *library_urls.urlpatterns,
]
