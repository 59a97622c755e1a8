"""Ingestion of prediction events and ground truth.

`parsing` and `validation` are pure pandas (no Django model); `storage` writes frames to the
database (COPY on PostgreSQL, the ORM elsewhere); `services` ties them together with the
permission check and the audit entry; `selectors` reads.
"""
