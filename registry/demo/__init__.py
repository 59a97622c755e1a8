"""Demo data for `manage.py seed_demo`.

`training` and `catalog` are pure (numpy, pandas, scikit-learn; no ORM): they load the data
sets scikit-learn ships, generate a synthetic cohort, train seeded models and describe what
to register. `portal.demo.seeding` turns that into rows through the services only.
"""
