from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path
from django.views import defaults

from accord.api import SERVER_ERROR, api
from accord.web import views
from accord.web.middleware import API_PREFIX, api_error

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
    path("", include("accord.response.web_urls")),
    path("", include("accord.alliances.web_urls")),
    path("", include("accord.members.urls")),
    path("", include("accord.desk.web_urls")),
    path("", include("accord.web.urls")),
]


# Under /api/ every error is JSON in the API's one shape (`Error`); elsewhere Django's pages answer.
def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(400, "bad request")
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(403, "forbidden")
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(404, f"no such API path: {request.path}")
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(500, SERVER_ERROR)
    return defaults.server_error(request)
