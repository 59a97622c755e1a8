from django.urls import include, path

from monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/progress/", views.job_progress, name="job-progress"),
    path("", include("monitoring.dashboards.portfolio_urls")),
    path("", include("monitoring.dashboards.deployment_urls")),
    path("", include("monitoring.settings_urls")),
]
