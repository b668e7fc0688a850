from django.urls import path

from search import views

app_name = "search"

urlpatterns = [
    path("search/", views.search_all, name="search"),
    path("studies/<slug:slug>/search/", views.search_study, name="study"),
]
