"""Governed retraining (issue #15 parts 4-6): a policy per model, the runs it starts, the two
trainers (the team's, called by a signed webhook; Steward's refit of scikit-learn models) and
the approval that every result goes through. docs/retraining.md."""
