"""The web pages of the alliances' membership (to be written)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
