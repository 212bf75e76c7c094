"""The federation page for this node's administrators (server-rendered); the protocol is in accord.federation.urls."""

from django.urls import URLPattern, path

from accord.federation import web

urlpatterns: list[URLPattern] = [path("admin/federation/", web.federation_admin, name="federation-admin")]
