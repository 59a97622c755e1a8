from django.urls import include, path

from governance.approvals import views

app_name = "approvals"
urlpatterns = [
    path("", views.request_list, name="request-list"),
    path("inbox/", views.inbox, name="inbox"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("<int:pk>/", views.request_detail, name="request-detail"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("new/<int:version_pk>/", views.request_new, name="request-new"),
    path("", include("governance.approvals.webhook_urls")),
]
