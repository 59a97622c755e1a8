from django.urls import path

from governance.access import views as access_views
from governance.approvals import views as approval_views
from governance.audit import views as audit_views

app_name = "governance"
urlpatterns = [
    path("audit/", audit_views.audit_list, name="audit-list"),
    path("production-at/", audit_views.production_at, name="production-at"),
    path("reports/", audit_views.reports, name="reports"),
    path("models/<slug:slug>/access/", access_views.model_access, name="model-access"),
    path("models/<slug:slug>/watch/", approval_views.model_watch, name="model-watch"),
]
