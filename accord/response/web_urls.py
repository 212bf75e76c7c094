"""The incident pages (server-rendered); the JSON API is in accord.response.api."""

from django.urls import URLPattern, path

from accord.response import views

urlpatterns: list[URLPattern] = [
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/new/", views.incident_new, name="incident-new"),
    path("incidents/<str:record_uuid>/", views.incident_detail, name="incident"),
]
