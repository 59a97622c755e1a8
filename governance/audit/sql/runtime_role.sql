-- Steward on PostgreSQL: the least-privilege role the web server and the Celery workers use.
-- See docs/audit.md ("Least privilege").
--
-- Two roles: the OWNER owns the tables and runs `manage.py migrate`; steward_runtime is what
-- the application connects as day to day. steward_runtime must not be a superuser, must not
-- own any table, and must not be a member of the owner role: ownership is what allows
-- ALTER TABLE ... DISABLE TRIGGER and DROP TRIGGER, and superusers may set
-- session_replication_role.
--
-- Create the role once (as a role with CREATEROLE):
--     CREATE ROLE steward_runtime LOGIN PASSWORD '...';
-- then run this file as the OWNER, after every `manage.py migrate`:
--     psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -f governance/audit/sql/runtime_role.sql
-- To use another role name, replace steward_runtime throughout. Tables are in schema public.

-- Everything the application reads and writes...
GRANT USAGE ON SCHEMA public TO steward_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO steward_runtime;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO steward_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO steward_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO steward_runtime;

-- ...except the audit log: entries and checkpoints are only ever added and read.
REVOKE ALL ON governance_auditevent, governance_auditcheckpoint FROM steward_runtime;
GRANT SELECT, INSERT ON governance_auditevent, governance_auditcheckpoint TO steward_runtime;

-- The chain head is locked and moved forward on every append (its trigger allows nothing
-- else); it is never deleted.
REVOKE ALL ON governance_auditchainhead FROM steward_runtime;
GRANT SELECT, INSERT, UPDATE ON governance_auditchainhead TO steward_runtime;

-- Raw-event partitions (monitoring migration 0015): the retention jobs create and drop a
-- month's partition through this owner-defined function, on the two raw tables only.
GRANT EXECUTE ON FUNCTION steward_raw_partition(text, text, timestamptz) TO steward_runtime;
