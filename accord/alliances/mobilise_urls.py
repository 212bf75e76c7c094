"""The web pages of mobilisation: the call form, a call's page (answer and select there), the reader's calls."""

from django.urls import URLPattern, path

from accord.alliances import mobilise_views

urlpatterns: list[URLPattern] = [
    path("alliances/roster-calls/", mobilise_views.my_calls, name="roster-calls"),
    path("alliances/roster-calls/new/", mobilise_views.call_new, name="roster-call-new"),
    path("alliances/roster-calls/<str:record_uuid>/", mobilise_views.call_page, name="roster-call"),
    path("alliances/roster-calls/<str:record_uuid>/reply/", mobilise_views.reply, name="roster-call-reply"),
    path("alliances/roster-calls/<str:record_uuid>/select/", mobilise_views.select, name="roster-call-select"),
]
