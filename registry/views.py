"""Registry pages (work in progress: replaced by the full UI)."""

from django.http import HttpResponse


def model_list(request, *a, **k):
    return HttpResponse("models")


model_detail = version_detail = dataset_detail = deployment_list = deployment_detail = model_list
