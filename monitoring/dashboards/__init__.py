"""Server-rendered monitoring dashboards (the seed documents' figures 1.1-1.8). They read the
rollups (status, activity, hourly health, daily performance, drift results), never raw events,
and only deployments the user may view."""
