"""Exports and frozen participation reports; included by reports/urls.py."""

from django.urls import path

from reports import export_views

urlpatterns: list = [
    path("<slug:slug>/exports/", export_views.exports, name="exports"),
    path("<slug:slug>/exports/<uuid:token>/", export_views.export_status, name="export_status"),
    path(
        "<slug:slug>/exports/<uuid:token>/download/",
        export_views.export_download,
        name="export_download",
    ),
    path("<slug:slug>/report/", export_views.report, name="report"),
    path(
        "<slug:slug>/report/download/<str:fmt>/",
        export_views.report_download,
        name="report_download",
    ),
]
