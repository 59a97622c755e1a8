"""Alert rules on daily metrics and status axes, their alerts and the alerts' delivery."""
