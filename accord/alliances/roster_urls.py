"""The web pages of the alliances' roster (to be written)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
