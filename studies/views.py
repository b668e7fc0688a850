from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studies.models import Study


def home(request: HttpRequest) -> HttpResponse:
    studies = Study.objects.visible_to(request.user).listed()
    return render(request, "studies/home.html", {"studies": studies})
