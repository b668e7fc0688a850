from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from studies import views as study_views

urlpatterns = [
    path("", study_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("me/", include("accounts.urls")),
    path("health/", account_views.health, name="health"),
    path("studies/", include("studies.urls")),
    path("studies/", include("polls.urls")),
    path("studies/", include("contributions.urls")),
    path("moderation/", include("moderation.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("api.urls")),
]
