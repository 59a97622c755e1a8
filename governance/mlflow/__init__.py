"""The MLflow bridge: mirror an MLflow Model Registry into Steward and govern its production
alias (docs/mlflow.md). Only `gateway.py` imports the `mlflow` package."""
