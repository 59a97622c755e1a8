"""Rollups of prediction events into reference profiles, hourly summaries and drift results.

`profiles` builds the per-version reference profile, `hourly` the per-hour feature summaries
and service health, `drift` a window's drift from merged hourly summaries, `jobs` the
"deployment_monitoring" job, and `selectors` what the API reads. Everything numeric is done
by `monitoring.engines`; these modules only move rows in and out of the database.
"""
