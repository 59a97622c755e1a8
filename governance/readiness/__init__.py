"""The ModelOps readiness checklist: versioned question templates, answers with evidence per
model version, readiness scores, and the required items that gate approval.

Rules, in one place:
- Templates are numbered versions written by migrations (`loader.load_template`); one is
  active. A model version is assessed against the template its answers were given to, or the
  active one while it has none, so a new template never reopens a checklist under way.
- One current answer per (version, item): yes, no, or not applicable. Re-answering rewrites
  it; the audit log (`readiness.answer.recorded` / `.changed`, before and after) keeps history.
- "not applicable" needs a note saying why. "yes" to an item marked `evidence_required` needs
  evidence: a non-blank `evidence_text`, an `evidence_url`, or an `evidence_artifact` of the
  same version. If that artifact is deleted later, the item counts as open again.
- Answering needs "change" on the model; approved and archived versions are frozen (409).
- Score = settled yes answers / (items - not applicable); see `scoring`.
- An item is open when the model's risk tier requires it and it is not settled (yes with the
  evidence it asks for, or not applicable). The approval workflow calls
  `selectors.open_required_items(version=...)` or `selectors.require_checklist_complete(...)`.
"""
