"""The web pages of the alliances' mobilise (to be written)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
