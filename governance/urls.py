from django.urls import path

from governance import views

app_name = "governance"
urlpatterns = [
    path("audit/", views.audit_list, name="audit-list"),
    path("production-at/", views.production_at, name="production-at"),
    path("reports/", views.reports, name="reports"),
    path("models/<slug:slug>/access/", views.model_access, name="model-access"),
    path("models/<slug:slug>/watch/", views.model_watch, name="model-watch"),
]
