"""Reports: statistics pages and the organisation registry (views), exports and frozen
reports (export_views)."""

from django.urls import include, path

app_name = "reports"

urlpatterns: list = [
    path("", include("reports.export_urls")),
]
