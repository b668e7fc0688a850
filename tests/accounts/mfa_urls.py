"""The project's URLs plus one page per MFA-guarded action, to walk the guided set-up.

The statistics and export pages of reports/ fetch their study the same way
(studies.access.study_for_user with Action.VIEW_STATISTICS or Action.EXPORT).
"""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urls
from studies.access import Action, study_for_user


def guarded_page(action: Action, label: str):
    def view(request, slug):
        access = study_for_user(request.user, slug, action)
        return HttpResponse(f"{label} {access.study.slug}")

    return view


urlpatterns = [
    path("test-moderation/<slug:slug>/", guarded_page(Action.MODERATE, "moderating")),
    path("test-statistics/<slug:slug>/", guarded_page(Action.VIEW_STATISTICS, "statistics of")),
    path("test-export/<slug:slug>/", guarded_page(Action.EXPORT, "exporting")),
    *project_urls,
]
