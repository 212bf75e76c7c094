from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path
from django.views.generic import RedirectView

from accord.web import views

urlpatterns: list[URLPattern] = [
    path("", RedirectView.as_view(pattern_name="records", permanent=False), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("records/", views.records, name="records"),
    path("records/<str:record_uuid>/", views.record_detail, name="record"),
]
