from django.urls import path

from monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("jobs/", views.job_list, name="job-list"),
]
