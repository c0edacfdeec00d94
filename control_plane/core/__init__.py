"""Settings, database, security and metrics: the control plane's plumbing."""
