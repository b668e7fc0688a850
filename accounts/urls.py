from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.profile, name="profile"),
    path("organisations/lookup/", views.organisation_lookup, name="organisation_lookup"),
    path("organisations/join/", views.organisation_join, name="organisation_join"),
    path("organisations/propose/", views.organisation_propose, name="organisation_propose"),
    path("organisations/<int:pk>/leave/", views.organisation_leave, name="organisation_leave"),
]
