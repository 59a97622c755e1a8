from django.urls import path

from governance import views

app_name = "governance"
urlpatterns = [
    path("audit/", views.audit_list, name="audit-list"),
    path("production-at/", views.production_at, name="production-at"),
]
