from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.profile, name="profile"),
    path("name/", views.public_name, name="public_name"),
    path("organisations/lookup/", views.organisation_lookup, name="organisation_lookup"),
    path("organisations/join/", views.organisation_join, name="organisation_join"),
    path("organisations/propose/", views.organisation_propose, name="organisation_propose"),
    path("organisations/<int:pk>/leave/", views.organisation_leave, name="organisation_leave"),
    path("organisations/claims/", views.claims, name="claims"),
    path("organisations/claims/<int:pk>/", views.claim_decision, name="claim_decision"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/settings/", views.notification_settings_edit, name="notification_settings"),
    path("single-sign-on/connect/", views.sso_connect, name="sso_connect"),
    path("two-factor/continue/", views.mfa_continue, name="mfa_continue"),
    path("data/", views.my_data, name="my_data"),
    path("data/export/", views.data_export_create, name="data_export_create"),
    path("data/export/<uuid:token>/", views.data_export_download, name="data_export_download"),
    path("delete/", views.account_delete_view, name="account_delete"),
]
