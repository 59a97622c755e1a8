"""API tokens: several per user, each named, expiring and revocable on its own."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """One client's credential. Only the SHA-256 of the secret is stored: the secret is shown
    once, when the token is created, and a copy of the database cannot be replayed. `prefix`
    (the secret's first characters) lets a person tell their tokens apart."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "expires_at"], name="apitoken_user_expiry")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
