"""What the on-call views exchange (log search queries and pages, issue history): shapes and
their parsing only, so the store, the services, the API and the console can all import them."""
