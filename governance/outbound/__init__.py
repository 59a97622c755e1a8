"""The one outbound webhook sender: sign, claim, vet the address, post, record, retry.

A leaf like `governance.audit`: it imports no Steward app, so governance's lifecycle
webhooks and monitoring's alert webhooks both send through it (docs/architecture.md).
Modules: `signing` (HMAC, pure), `addresses` (the URL and address vetting, also the
validator of every stored outbound URL), `transport` (one POST pinned to a vetted address),
`models` (the abstract delivery row), `sender` (claim, post, record, backoff).
"""
