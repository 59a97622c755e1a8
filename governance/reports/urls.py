from django.urls import path

from governance.reports import views

app_name = "reports"
urlpatterns = [
    path("export/", views.export_start, name="export"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("verify/", views.verify, name="verify"),
    path("schedules/<int:pk>/", views.schedule_change, name="schedule-change"),
]
