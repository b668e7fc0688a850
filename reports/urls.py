"""Reports: statistics pages and the organisation registry (views), exports and frozen
reports (export_views)."""

from django.urls import include, path

from reports import survey_views, views

app_name = "reports"

urlpatterns: list = [
    path("definitions/", views.definitions_page, name="definitions"),
    path("platform/", views.platform_statistics_page, name="platform"),
    path("organisations/", views.organisation_list, name="organisations"),
    path(
        "organisations/duplicates/",
        views.organisation_duplicates,
        name="organisation_duplicates",
    ),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation"),
    path("organisations/<int:pk>/merge/", views.organisation_merge, name="organisation_merge"),
    path("organisations/<int:pk>/verify/", views.organisation_verify, name="organisation_verify"),
    path(
        "organisations/<int:pk>/domains/",
        views.organisation_domain_add,
        name="organisation_domain_add",
    ),
    path(
        "organisations/<int:pk>/domains/<int:domain_pk>/remove/",
        views.organisation_domain_remove,
        name="organisation_domain_remove",
    ),
    path(
        "organisations/<int:pk>/claims/<int:claim_pk>/representative/",
        views.organisation_representative,
        name="organisation_representative",
    ),
    path("<slug:slug>/statistics/", views.study_statistics_page, name="statistics"),
    path("<slug:slug>/statistics/live/", views.study_statistics_live, name="statistics_live"),
    path(
        "<slug:slug>/surveys/<int:pk>/results/",
        survey_views.survey_results,
        name="survey_results",
    ),
    path(
        "<slug:slug>/surveys/<int:pk>/export/",
        survey_views.survey_export,
        name="survey_export",
    ),
    path("", include("reports.export_urls")),
]
