"""The administration area (admins only) and the signed-in user's account pages."""

from django.urls import path

from portal.administration import views

app_name = "administration"
urlpatterns = [
    path("", views.index, name="index"),
    path("policies/", views.policy_list, name="policy-list"),
    path("policies/<slug:risk_tier>/", views.policy_edit, name="policy-edit"),
    path("users/", views.user_list, name="user-list"),
    path("users/invite/", views.user_invite, name="user-invite"),
    path("users/<int:pk>/", views.user_detail, name="user-detail"),
    path("users/<int:pk>/roles/", views.user_roles, name="user-roles"),
    path("users/<int:pk>/active/", views.user_active, name="user-active"),
    path(
        "users/<int:pk>/tokens/<int:token_pk>/revoke/",
        views.user_token_revoke,
        name="user-token-revoke",
    ),
]
