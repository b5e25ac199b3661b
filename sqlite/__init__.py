"""SQLite plumbing the embedded event log and the embedded store share."""
