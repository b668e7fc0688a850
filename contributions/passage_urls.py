from django.urls import path

from contributions import passage_views as views

app_name = "passages"

urlpatterns = [
    path("<slug:slug>/document/", views.document, name="document"),
    path("<slug:slug>/document/counts/", views.block_counts, name="counts"),
    path("<slug:slug>/document/<str:anchor>/", views.block_panel, name="panel"),
    path("<slug:slug>/document/<str:anchor>/comment/", views.passage_comment, name="comment"),
    path("<slug:slug>/document/<str:anchor>/amend/", views.amendment_propose, name="amend"),
    path(
        "<slug:slug>/document/<str:anchor>/items/<int:pk>/reply/",
        views.passage_reply,
        name="reply",
    ),
    path("<slug:slug>/amendments/<int:pk>/support/", views.amendment_support, name="support"),
    path("<slug:slug>/amendments/<int:pk>/withdraw/", views.amendment_withdraw, name="withdraw"),
    path("<slug:slug>/amendments/<int:pk>/decide/", views.amendment_decide, name="decide"),
]
