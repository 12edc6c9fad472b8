"""What an on-call engineer reads and does: log search and tail, issue history and detail,
ignore and reopen, and the events (new, regressed, escalating...) that alerts are sent for."""
