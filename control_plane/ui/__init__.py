"""A small server-rendered web UI for the control plane (see ``extension``)."""
