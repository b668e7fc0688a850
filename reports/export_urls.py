"""Exports and frozen participation reports; included by reports/urls.py."""

urlpatterns: list = []
