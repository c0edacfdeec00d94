"""What the control plane and the data plane (operator, listener, usage reporter) must agree on,
written once: both import this package, and it imports neither (import-linter checks it).

- ``resource``: the LangGraphPlatform custom resource's spec and status models (the CRD is generated
  from them; the control plane builds a revision's spec as one).
- ``protocol``: the listener protocol's messages (desired state, reports, acknowledgements).
- ``statuses``: a revision's statuses and their named sets.
- ``names``: the names of a resource's children and the labels both planes read.
- ``usage``: the usage (beacon) protocol's tags, measures and idempotency key.
- ``formats``: the regular expressions names, image references and quantities are checked with.
"""
