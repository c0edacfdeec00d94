"""The usage reporter (data plane): counts runs and node executions per deployment and hour window
from each deployment's own Postgres, and submits them to a beacon endpoint exactly once per window
(at-least-once send + an idempotency key per deployment and window), buffering durably while the
beacon is unreachable, or writes signed audit files in air-gapped mode. See README.md here.

This package talks to the control plane over HTTP only; it never imports ``control_plane``.
"""
