"""The web pages of the alliances' work (to be written)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
