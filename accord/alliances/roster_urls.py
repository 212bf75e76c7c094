"""The web pages of the alliances' roster (`roster_views`, `roster_managed_views`)."""

from django.urls import URLPattern, path

from accord.alliances import roster_managed_views, roster_views

urlpatterns: list[URLPattern] = [
    path("experts/", roster_views.search, name="roster-search"),
    path("experts/me/", roster_views.my_profile, name="roster-me"),
    path("experts/me/withdraw/", roster_views.withdraw_mine, name="roster-withdraw"),
    path("experts/managed/", roster_managed_views.managed, name="roster-managed"),
    path("experts/managed/new/", roster_managed_views.managed_new, name="roster-managed-new"),
    path("experts/managed/<str:record_uuid>/", roster_managed_views.managed_edit, name="roster-managed-edit"),
    path(
        "experts/managed/<str:record_uuid>/withdraw/",
        roster_managed_views.managed_withdraw,
        name="roster-managed-withdraw",
    ),
    path("experts/<str:record_uuid>/", roster_views.expert, name="roster-expert"),
]
