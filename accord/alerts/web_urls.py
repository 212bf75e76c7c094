"""The alert pages (server-rendered); the JSON API is in accord.alerts.api."""

from django.urls import URLPattern, path

from accord.alerts import draft_views, views

urlpatterns: list[URLPattern] = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/new/", views.compose, name="alert-new"),
    path("alerts/drafts/", draft_views.draft_list, name="alert-drafts"),
    path("alerts/drafts/new/", draft_views.draft_new, name="alert-draft-new"),
    path("alerts/drafts/<str:record_uuid>/", draft_views.draft_page, name="alert-draft"),
    path("alerts/drafts/<str:record_uuid>/discard/", draft_views.draft_discard, name="alert-draft-discard"),
    path("alerts/<str:record_uuid>/", views.alert_detail, name="alert"),
    path("alerts/<str:record_uuid>/update/", views.compose, name="alert-update"),
    path("alerts/<str:record_uuid>/acknowledge/", views.acknowledge, name="alert-acknowledge"),
    path("alerts/<str:record_uuid>/cancel/", views.cancel, name="alert-cancel"),
    path("alerts/<str:record_uuid>/assess/", views.assess, name="alert-assess"),
]
