from django.urls import URLPattern, URLResolver, include, path

from accord.api import api
from accord.web import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("healthz", views.healthz, name="healthz"),
    path("", include("accord.federation.urls")),
    path("", include("accord.federation.web_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accord.alerts.urls")),
    path("", include("accord.notify.web_urls")),
    path("", include("accord.alerts.web_urls")),
    path("", include("accord.surveillance.web_urls")),
    path("", include("accord.members.urls")),
    path("", include("accord.web.urls")),
]
