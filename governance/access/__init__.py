"""Per-model grants: the service that checks and audits them (`services`), the model page's
form (`views`), the API (`api`) and the audited guardian forms of the Django admin (`admin`).
"""
