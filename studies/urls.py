"""Study pages under /studies/. None of these is a bare "<slug>/": that is the
study page, which contributions.urls serves after these patterns."""

from django.urls import path

from studies import views

app_name = "studies"

urlpatterns = [
    path("new/", views.study_create, name="create"),
    path("invitation/waiting/<int:pk>/", views.invitation_waiting, name="invitation_waiting"),
    path("invitation/<str:token>/", views.invitation_open, name="invitation"),
    path("<slug:slug>/settings/", views.study_settings, name="settings"),
    path("<slug:slug>/phases/", views.study_phases, name="phases"),
    path("<slug:slug>/status/", views.study_status, name="status"),
    path("<slug:slug>/close/", views.study_close, name="close"),
    path("<slug:slug>/versions/", views.version_list, name="versions"),
    path("<slug:slug>/versions/new/", views.version_create, name="version_create"),
    path("<slug:slug>/versions/compare/", views.version_compare, name="version_compare"),
    path("<slug:slug>/versions/<int:pk>/", views.version_detail, name="version_detail"),
    path("<slug:slug>/join/", views.study_join, name="join"),
    path("<slug:slug>/membership/", views.membership_edit, name="membership"),
    path("<slug:slug>/leave/", views.membership_leave, name="leave"),
    path("<slug:slug>/members/", views.study_members, name="members"),
    path("<slug:slug>/members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path(
        "<slug:slug>/requests/<int:request_id>/decide/",
        views.join_request_decide,
        name="join_request_decide",
    ),
    path("<slug:slug>/invitations/", views.study_invitations, name="invitations"),
    path(
        "<slug:slug>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
]
