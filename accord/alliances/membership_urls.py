"""The web pages of the alliances' membership: the three alliances, an alliance's page, and its forms (apply,
leave, decide). An alliance's slug is one of the three (so that other parts' pages under /alliances/, such as the
roster calls, are theirs)."""

from django.urls import URLPattern, path, re_path

from accord.alliances import membership_views as views
from accord.alliances.seed import SLUGS

ALLIANCE = f"alliances/(?P<slug>{'|'.join(SLUGS)})/"

urlpatterns: list[URLPattern] = [
    path("alliances/", views.alliance_list, name="alliances"),
    path("alliances/applications/<str:record_uuid>/decide/", views.decide, name="alliance-decide"),
    re_path(f"^{ALLIANCE}$", views.alliance_page, name="alliance"),
    re_path(f"^{ALLIANCE}apply/$", views.apply, name="alliance-apply"),
    re_path(f"^{ALLIANCE}leave/$", views.leave, name="alliance-leave"),
]
