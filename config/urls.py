from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from accounts import administrator_views
from accounts import views as account_views
from accounts.second_factor import require_second_factor, second_factor_in_session
from studies import views as study_views

# The Django admin signs nobody in itself: its login page sends people to
# allauth's (e-mail, rate limits, TOTP), and it opens only for staff who used
# a second factor in this session; a staff session without one is sent to
# confirm with TOTP (or set it up) by accounts.middleware.
#
# Who is staff is Django's own check (an active account with is_staff), asked
# in this one place; it is the developers' door, not a platform role (that is
# accounts/administrators.py).
_admin_login = secure_admin_login(admin.site.login)
_is_admin_staff = admin.site.has_permission


def admin_login(request, extra_context=None):
    if _is_admin_staff(request):
        require_second_factor(request)
    return _admin_login(request, extra_context)


def admin_has_permission(request) -> bool:
    return _is_admin_staff(request) and second_factor_in_session(request)


admin.site.login = admin_login
admin.site.has_permission = admin_has_permission

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
    path("", include("search.urls")),
    path("studies/", include("studies.urls")),
    path("studies/", include("polls.urls")),
    path("studies/", include("contributions.passage_urls")),
    path("studies/", include("contributions.urls")),
    path("moderation/", include("moderation.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("api.urls")),
]
