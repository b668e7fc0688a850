from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("<slug:slug>/", views.queue, name="queue"),
    path("<slug:slug>/log/", views.log, name="log"),
    path("<slug:slug>/log.csv", views.log_csv, name="log_csv"),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/members/<int:membership_id>/", views.member_detail, name="member"),
    path("<slug:slug>/members/<int:membership_id>/block/", views.member_block, name="member_block"),
    path(
        "<slug:slug>/members/<int:membership_id>/unblock/",
        views.member_unblock,
        name="member_unblock",
    ),
    path("<slug:slug>/flag/<str:item_type>/<int:item_id>/", views.flag, name="flag"),
    path("<slug:slug>/items/<str:item_type>/<int:item_id>/", views.item_detail, name="item"),
    path(
        "<slug:slug>/items/<str:item_type>/<int:item_id>/<str:action>/",
        views.item_action,
        name="item_action",
    ),
]
