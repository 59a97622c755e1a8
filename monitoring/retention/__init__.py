"""Raw-event retention: monthly partitions on PostgreSQL created ahead (`partitions`), and the
audited removal of months whose hours are rolled up and verified (`services`), run as jobs
(`jobs`). docs/operations.md, "Raw-event retention"."""
