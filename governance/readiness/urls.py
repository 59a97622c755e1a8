"""The readiness checklist pages, included from portal/web_urls.py under /governance/readiness/."""

from django.urls import path

from governance.readiness import views

app_name = "readiness"
urlpatterns = [
    path("models/<slug:slug>/v<int:number>/", views.checklist, name="checklist"),
    path("models/<slug:slug>/v<int:number>/crosswalk/", views.crosswalk, name="crosswalk"),
    path("models/<slug:slug>/v<int:number>/<str:key>/", views.answer, name="answer"),
]
