from django.urls import path

from governance.reports import views

app_name = "reports"
urlpatterns = [
    path("export/", views.export_start, name="export"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("verify/", views.verify, name="verify"),
    path(
        "technical-documentation/<int:pk>/",
        views.technical_documentation,
        name="technical-documentation",
    ),
    path("schedules/new/", views.schedule_new, name="schedule-new"),
    path("schedules/<int:pk>/", views.schedule_change, name="schedule-change"),
    path("schedules/<int:pk>/delete/", views.schedule_delete, name="schedule-delete"),
]
