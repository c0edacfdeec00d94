"""lgp control plane: deployments, revisions, listeners, keys, secrets, audit, license and usage."""
