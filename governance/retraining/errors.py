from registry.errors import ConflictError


class RetrainingRefused(ConflictError):
    """A retraining step that cannot happen in the run's or the model's present state (409)."""


class BadSignature(Exception):
    """A trainer callback whose body is not signed with the policy's secret."""
