"""The signed-in user's own account pages: API tokens; the invitation's set-password link."""

from django.urls import path

from portal.administration import views

app_name = "account"
urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set-password"),
]
