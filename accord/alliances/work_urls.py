"""The web pages of the alliances' joint work, and the calendar feeds of the alliances."""

from django.urls import URLPattern, path

from accord.alliances import work_calendar, work_views

urlpatterns: list[URLPattern] = [
    path("alliances/<slug:slug>/activities/", work_views.activity_list, name="alliance-activities"),
    path("alliances/<slug:slug>/activities/new/", work_views.activity_new, name="alliance-activity-new"),
    path("alliances/<slug:slug>/calendar.ics", work_calendar.calendar, name="alliance-calendar"),
    path(
        "feeds/t/<str:token>/alliances/<slug:slug>/calendar.ics",
        work_calendar.token_calendar,
        name="alliance-calendar-token",
    ),
    path("activities/<uuid:record_uuid>/", work_views.activity_page, name="alliance-activity"),
    path("activities/<uuid:record_uuid>/edit/", work_views.activity_edit, name="alliance-activity-edit"),
    path("activities/<uuid:record_uuid>/cancel/", work_views.activity_cancel, name="alliance-activity-cancel"),
    path("activities/<uuid:record_uuid>/withdraw/", work_views.activity_withdraw, name="alliance-activity-withdraw"),
]
