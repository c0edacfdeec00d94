"""HTTP API: routes per resource, dependencies, middleware."""
