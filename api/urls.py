from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView

from api import views

app_name = "api"

urlpatterns = [
    path("", views.documentation, name="docs"),
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("v1/", views.ApiRoot.as_view(), name="root"),
    path("v1/studies/", views.StudyList.as_view(), name="study-list"),
    path("v1/studies/<slug:slug>/", views.StudyDetail.as_view(), name="study-detail"),
    path("v1/studies/<slug:slug>/sections/", views.SectionList.as_view(), name="section-list"),
    path(
        "v1/studies/<slug:slug>/contributions/",
        views.ContributionList.as_view(),
        name="contribution-list",
    ),
    path(
        "v1/studies/<slug:slug>/contributions/<int:pk>/",
        views.ContributionDetail.as_view(),
        name="contribution-detail",
    ),
    path("v1/studies/<slug:slug>/comments/", views.CommentList.as_view(), name="comment-list"),
    path(
        "v1/studies/<slug:slug>/statistics/",
        views.StudyStatistics.as_view(),
        name="study-statistics",
    ),
    path(
        "v1/studies/<slug:slug>/open-data/",
        views.OpenDataDownload.as_view(),
        name="study-open-data",
    ),
    path(
        "v1/studies/<slug:slug>/exports/<str:tier>/",
        views.ExportView.as_view(),
        name="study-export",
    ),
    # Last: anything else under /api/ is a JSON 404.
    re_path(r"^(?P<rest>[\s\S]*)$", views.not_found),
]
