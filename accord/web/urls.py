from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path

from accord.members import twofactor_views
from accord.web import audit_views, note_views, views

urlpatterns: list[URLPattern] = [
    path("login/", twofactor_views.AccordLoginView.as_view(), name="login"),
    path("login/code/", twofactor_views.login_code, name="login_code"),
    path("account/two-factor/", twofactor_views.two_factor, name="two_factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/audit/", audit_views.audit_log, name="admin-audit"),
    path("records/", views.records, name="records"),
    path("records/new/note/", note_views.note_new, name="note-new"),
    path("records/<str:record_uuid>/", views.record_detail, name="record"),
]
