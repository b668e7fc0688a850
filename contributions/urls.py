from django.urls import path

from contributions import views

urlpatterns = [
    path("<slug:slug>/", views.study_detail, name="study_detail"),
]
