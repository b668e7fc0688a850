from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studies.access import study_for_user


def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    access = study_for_user(request.user, slug)
    return render(request, "contributions/study_detail.html", {"access": access, "study": access.study})
