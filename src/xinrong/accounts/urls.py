from django.urls import path

from xinrong.accounts import views, views_twofactor
from xinrong.accounts.sso import views as sso_views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("sso/start/", sso_views.sso_start, name="sso_start"),
    path("sso/callback/", sso_views.sso_callback, name="sso_callback"),
    path("password/", views.password_change, name="password_change"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisations/<int:pk>/status/", views.organisation_status, name="organisation_status"),
    path("organisations/<int:pk>/users/new/", views.user_create, name="user_create"),
    path("users/", views.user_list, name="user_list"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/status/", views.user_status, name="user_status"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path(
        "users/<int:pk>/two-factor/reset/",
        views_twofactor.user_second_factor_reset,
        name="user_second_factor_reset",
    ),
    path("two-factor/", views_twofactor.account_security, name="account_security"),
    path("two-factor/verify/", views_twofactor.second_factor_verify, name="second_factor_verify"),
    path("two-factor/enrol/", views_twofactor.second_factor_enrol, name="second_factor_enrol"),
    path("two-factor/reset/", views_twofactor.second_factor_reset_own, name="second_factor_reset"),
    path("two-factor/recovery-codes/", views_twofactor.recovery_codes, name="recovery_codes"),
    path(
        "two-factor/recovery-codes/download/",
        views_twofactor.recovery_codes_download,
        name="recovery_codes_download",
    ),
    path(
        "two-factor/recovery-codes/new/",
        views_twofactor.recovery_codes_new,
        name="recovery_codes_new",
    ),
    path("security-log/", views.security_log, name="security_log"),
    path(
        "organisations/<int:pk>/api-keys/",
        views.organisation_api_keys,
        name="organisation_api_keys",
    ),
    path("api-keys/", views.api_key_list, name="api_key_list"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
