"""The listener: keeps one cluster in step with the control plane and reports back (one per cluster)."""
