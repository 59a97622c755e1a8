"""Security plumbing: sign-in lockout, expiring API tokens, request size caps."""
