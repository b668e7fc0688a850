"""The project's URLs plus one page that needs MFA, to walk the guided set-up."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urls
from studies.access import Action, study_for_user


def moderation_page(request, slug):
    access = study_for_user(request.user, slug, Action.MODERATE)
    return HttpResponse(f"moderating {access.study.slug}")


urlpatterns = [path("test-moderation/<slug:slug>/", moderation_page), *project_urls]
