"""Admin wiring for the portal app."""

from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

# DRF's token admin would make clear-text keys that no longer authenticate anyone: API tokens
# are portal.ApiToken, managed through /api/v1/auth/tokens/ and `manage.py revoke_tokens`.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
