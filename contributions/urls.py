from django.urls import path

from contributions import views

urlpatterns = [
    path("<slug:slug>/", views.study_detail, name="study_detail"),
    path("<slug:slug>/contributions/", views.contribution_list, name="contribution_list"),
    path(
        "<slug:slug>/contributions/<int:pk>/edit/",
        views.contribution_edit,
        name="contribution_edit",
    ),
    path(
        "<slug:slug>/contributions/<int:pk>/withdraw/",
        views.contribution_withdraw,
        name="contribution_withdraw",
    ),
    path(
        "<slug:slug>/contributions/<int:pk>/react/",
        views.contribution_react,
        name="contribution_react",
    ),
    path(
        "<slug:slug>/contributions/<int:pk>/comments/",
        views.contribution_comments,
        name="contribution_comments",
    ),
    path(
        "<slug:slug>/contributions/<int:pk>/comments/form/",
        views.comment_form,
        name="comment_form",
    ),
    path("<slug:slug>/comments/<int:pk>/replies/", views.comment_replies, name="comment_replies"),
    path("<slug:slug>/comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path(
        "<slug:slug>/comments/<int:pk>/withdraw/", views.comment_withdraw, name="comment_withdraw"
    ),
    path("<slug:slug>/comments/<int:pk>/react/", views.comment_react, name="comment_react"),
    path("<slug:slug>/<str:item_type>/<int:pk>/history/", views.item_history, name="item_history"),
    path(
        "<slug:slug>/attachments/<int:pk>/",
        views.attachment_download,
        name="contribution_attachment",
    ),
]
