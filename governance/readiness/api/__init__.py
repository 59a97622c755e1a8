"""The readiness checklist's REST API (routes in `governance.readiness.api_urls`)."""
