"""The surveillance pages (server-rendered); the JSON API is in accord.surveillance.api."""

from django.urls import URLPattern, path

from accord.surveillance import views

urlpatterns: list[URLPattern] = [
    path("surveillance/", views.series_list, name="surveillance"),
    path("surveillance/series/", views.series_detail, name="surveillance-series"),
    path("surveillance/signals/", views.signal_list, name="surveillance-signals"),
    path("surveillance/signals/<str:signal_uuid>/", views.signal_detail, name="surveillance-signal"),
    path("surveillance/signals/<str:signal_uuid>/verify/", views.signal_verify, name="surveillance-signal-verify"),
    path("surveillance/signals/<str:signal_uuid>/dismiss/", views.signal_dismiss, name="surveillance-signal-dismiss"),
    path("surveillance/signals/<str:signal_uuid>/alert/", views.signal_alert, name="surveillance-signal-alert"),
    path("surveillance/signals/<str:signal_uuid>/assess/", views.signal_assess, name="surveillance-signal-assess"),
    path("surveillance/upload/", views.upload, name="surveillance-upload"),
    path("surveillance/uploads/<str:upload_uuid>/", views.upload_detail, name="surveillance-upload-detail"),
    path("surveillance/uploads/<str:upload_uuid>/status.json", views.upload_status, name="surveillance-upload-status"),
    path("surveillance/template.csv", views.template_csv, name="surveillance-template-csv"),
    path("surveillance/template.xlsx", views.template_xlsx, name="surveillance-template-xlsx"),
    path("surveillance/settings/", views.settings_page, name="surveillance-settings"),
]
