"""Everything that talks to the Kubernetes API: client, discovery, apply, prune, events, leader election."""
