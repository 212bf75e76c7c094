"""The incident pages (server-rendered); the JSON API is in accord.response.api and the modules it adds."""

from django.urls import URLPattern, path

from accord.response import (
    assist_3w_views,
    assist_deploy_views,
    assist_offer_views,
    assist_views,
    room_views,
    sitrep_views,
    views,
)

urlpatterns: list[URLPattern] = [
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/new/", views.incident_new, name="incident-new"),
    path("incidents/<str:record_uuid>/", views.incident_detail, name="incident"),
    path("incidents/<str:record_uuid>/tasks/", room_views.task_new, name="incident-task-new"),
    path("incidents/<str:record_uuid>/decisions/", room_views.decision_new, name="incident-decision-new"),
    path("incidents/<str:record_uuid>/meetings/", room_views.meeting_new, name="incident-meeting-new"),
    path("incidents/<str:record_uuid>/sitreps/new/", sitrep_views.sitrep_new, name="incident-sitrep-new"),
    path("incidents/<str:record_uuid>/sitreps/", sitrep_views.consolidated, name="incident-consolidated"),
    path("incidents/<str:record_uuid>/consent/", room_views.consent, name="incident-consent"),
    path("incidents/<str:record_uuid>/level/", room_views.level, name="incident-level"),
    path("incidents/<str:record_uuid>/close/", room_views.incident_close, name="incident-close"),
    path("incidents/<str:record_uuid>/reopen/", room_views.incident_reopen, name="incident-reopen"),
    path("incidents/<str:record_uuid>/assistance/", assist_views.board, name="assist-board"),
    path("incidents/<str:record_uuid>/assistance/new/", assist_views.request_new, name="assist-request-new"),
    path("incidents/<str:record_uuid>/assistance/deployments/", assist_3w_views.deployments, name="assist-deployments"),
    path("assistance/requests/<str:record_uuid>/", assist_views.request_page, name="assist-request"),
    path("assistance/requests/<str:record_uuid>/offers/", assist_views.offer_new, name="assist-offer-new"),
    path("assistance/offers/<str:offer_uuid>/accept/", assist_views.accept, name="assist-accept"),
    path(
        "incidents/<str:record_uuid>/assistance/offer/", assist_offer_views.unsolicited_new, name="assist-unsolicited"
    ),
    path(
        "assistance/requests/<str:record_uuid>/withdraw/",
        assist_offer_views.end_request,
        {"action": "withdraw"},
        name="assist-request-withdraw",
    ),
    path(
        "assistance/requests/<str:record_uuid>/close/",
        assist_offer_views.end_request,
        {"action": "close"},
        name="assist-request-close",
    ),
    path(
        "assistance/offers/<str:offer_uuid>/withdraw/", assist_offer_views.withdraw_offer, name="assist-offer-withdraw"
    ),
    path("assistance/offers/<str:offer_uuid>/commit/", assist_deploy_views.commit, name="assist-commit"),
    path("assistance/offers/<str:offer_uuid>/deploy/", assist_deploy_views.deploy, name="assist-deploy"),
    path("assistance/deployments/<str:record_uuid>/", assist_deploy_views.deployment, name="assist-deployment"),
    path(
        "assistance/deployments/<str:record_uuid>/status/",
        assist_deploy_views.report_status,
        name="assist-deployment-status",
    ),
    path("tasks/mine/", room_views.my_tasks, name="my-tasks"),
    path("tasks/<str:task_uuid>/status/", room_views.task_status, name="task-status"),
    path("decisions/<str:decision_uuid>/position/", room_views.position, name="decision-position"),
]
