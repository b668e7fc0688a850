from django.contrib import admin
from django.urls import include, path

from accounts import administrator_views
from accounts import views as account_views
from studies import views as study_views

urlpatterns = [
    path("", study_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("me/", include("accounts.urls")),
    path("health/", account_views.health, name="health"),
    # The platform administrators' pages (accounts/administrators.py decides who).
    path("administration/", study_views.administration, name="administration"),
    path(
        "administration/studies/",
        study_views.administration_studies,
        name="administration_studies",
    ),
    path(
        "administration/studies/<slug:slug>/coordinator/",
        study_views.administration_coordinator,
        name="administration_coordinator",
    ),
    path(
        "administration/administrators/",
        administrator_views.administrator_list,
        name="administrators",
    ),
    path(
        "administration/administrators/<int:pk>/remove/",
        administrator_views.administrator_remove,
        name="administrator_remove",
    ),
    path("my-studies/", study_views.my_studies, name="my_studies"),
    path("studies/", include("studies.urls")),
    path("studies/", include("contributions.urls")),
    path("moderation/", include("moderation.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("api.urls")),
]
