"""Demo data for `manage.py seed_demo`.

`training`, `catalog` and `traffic_generator` are pure (numpy, pandas, scikit-learn; no ORM):
they load the data sets scikit-learn ships, generate a synthetic cohort, train seeded models,
describe what to register and generate the production traffic. `seeding`, `traffic` and
`reports` turn that into rows through every app's services only, which is why the demo sits
in portal, at the top of the dependency graph.
"""
