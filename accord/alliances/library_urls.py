"""The web pages of the alliances' library (to be written)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
