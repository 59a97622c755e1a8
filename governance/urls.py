from django.urls import path

from governance.access import views as access_views
from governance.approvals import views as approval_views
from governance.audit import views as audit_views
from governance.modelcards import views as card_views
from governance.retraining import views as retraining_views

app_name = "governance"
urlpatterns = [
    path("audit/", audit_views.audit_list, name="audit-list"),
    path("production-at/", audit_views.production_at, name="production-at"),
    path("reports/", audit_views.reports, name="reports"),
    path("models/<slug:slug>/access/", access_views.model_access, name="model-access"),
    path("models/<slug:slug>/grants/", access_views.model_grants, name="model-grants"),
    path("models/<slug:slug>/watch/", approval_views.model_watch, name="model-watch"),
    path("models/<slug:slug>/v<int:number>/card/", card_views.model_card, name="model-card"),
    path("models/<slug:slug>/retraining/", retraining_views.model_retraining, name="retraining"),
    path(
        "models/<slug:slug>/retraining/request/",
        retraining_views.retraining_request,
        name="retraining-request",
    ),
    path("retraining/runs/<int:pk>/", retraining_views.run_detail, name="retraining-run"),
]
