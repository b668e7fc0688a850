"""Polls and surveys under /studies/<slug>/polls/ and /studies/<slug>/surveys/."""

from django.urls import path

from polls import survey_views, views

app_name = "polls"

urlpatterns = [
    path("<slug:slug>/polls/", views.poll_manage, name="manage"),
    path("<slug:slug>/polls/new/", views.poll_create, name="create"),
    path("<slug:slug>/polls/<int:pk>/", views.poll_detail, name="detail"),
    path("<slug:slug>/polls/<int:pk>/vote/", views.poll_vote, name="vote"),
    path("<slug:slug>/polls/<int:pk>/edit/", views.poll_edit, name="edit"),
    path("<slug:slug>/polls/<int:pk>/close/", views.poll_close, name="close"),
    path("<slug:slug>/polls/votes/<int:pk>/flag/", views.vote_flag, name="vote_flag"),
    path("<slug:slug>/polls/votes/<int:pk>/hide/", views.vote_hide, name="vote_hide"),
    path("<slug:slug>/surveys/", survey_views.survey_manage, name="surveys"),
    path("<slug:slug>/surveys/new/", survey_views.survey_create, name="survey_create"),
    path("<slug:slug>/surveys/<int:pk>/", survey_views.survey_answer, name="survey"),
    path(
        "<slug:slug>/surveys/answers/<int:pk>/hide/",
        survey_views.answer_hide,
        name="survey_answer_hide",
    ),
]
