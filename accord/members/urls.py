from django.urls import URLPattern, path

from accord.members import views

urlpatterns: list[URLPattern] = [
    path("account/", views.profile, name="profile"),
    path("account/preferences/", views.save_preferences, name="profile-preferences"),
    path("account/password/", views.change_password, name="profile-password"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/tokens/new/", views.create_token, name="token-create"),
    path("account/tokens/<str:prefix>/revoke/", views.revoke_token, name="token-revoke"),
    path("account/password-reset/", views.ResetRequestView.as_view(), name="password-reset"),
    path("account/password-reset/sent/", views.ResetDoneView.as_view(), name="password-reset-done"),
    path("account/reset/<uidb64>/<token>/", views.ResetConfirmView.as_view(), name="password-reset-confirm"),
    path("account/reset/done/", views.ResetCompleteView.as_view(), name="password-reset-complete"),
    path("admin/accounts/", views.accounts, name="admin-accounts"),
    path("admin/new-account/", views.account_new, name="admin-account-new"),
    path("admin/accounts/<str:username>/", views.account_detail, name="admin-account"),
    path("admin/accounts/<str:username>/roles/", views.account_roles, name="admin-account-roles"),
    path("admin/accounts/<str:username>/active/", views.account_active, name="admin-account-active"),
    path("admin/accounts/<str:username>/password-link/", views.account_send_link, name="admin-account-link"),
    path("admin/accounts/<str:username>/unlock/", views.account_unlock, name="admin-account-unlock"),
    path("admin/accounts/<str:username>/two-factor/", views.account_reset_two_factor, name="admin-account-2fa"),
]
