"""The federation page for this node's administrators (server-rendered); the protocol is in accord.federation.urls."""

from django.urls import URLPattern, path

from accord.federation import web, web_actions

urlpatterns: list[URLPattern] = [
    path("admin/federation/", web.federation_admin, name="federation-admin"),
    path("admin/federation/invite/", web_actions.invite, name="federation-invite"),
    path("admin/federation/accept/", web_actions.accept, name="federation-accept"),
    path("admin/federation/peers/add/", web_actions.add, name="federation-peer-add"),
    path("admin/federation/peers/<str:name>/revoke/", web_actions.revoke, name="federation-peer-revoke"),
]
