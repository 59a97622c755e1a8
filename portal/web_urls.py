"""The web UI's URL map (the API lives under /api/v1/)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("registry/", include("portal.registry_urls")),
    path("monitoring/", include("monitoring.urls")),
    path("governance/approvals/", include("governance.approvals.urls")),
    path("governance/reports/", include("governance.reports.urls")),
    path("governance/readiness/", include("governance.readiness.urls")),
    path("governance/", include("governance.urls")),
    path("administration/", include("portal.administration.urls")),
    path("account/", include("portal.administration.account_urls")),
]
