from registry.errors import ConflictError


class ApprovalRefused(ConflictError):
    """The decision or request breaks the policy; the message says which rule."""

    code = "approval_refused"
