from django.urls import URLPattern, path

from accord.federation import views

urlpatterns: list[URLPattern] = [path("federation/v1/<path:rest>", views.endpoint, name="federation")]
