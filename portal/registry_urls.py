from django.urls import path

from portal import registry_views as views

app_name = "registry"
urlpatterns = [
    path("models/", views.model_list, name="model-list"),
    path("models/<slug:slug>/", views.model_detail, name="model-detail"),
    path("models/<slug:slug>/v<int:number>/", views.version_detail, name="version-detail"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset-detail"),
    path("deployments/", views.deployment_list, name="deployment-list"),
    path("deployments/<int:pk>/", views.deployment_detail, name="deployment-detail"),
]
