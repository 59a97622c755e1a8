"""Model quality against ground truth: daily performance, thresholds and status per deployment."""
