"""Exit codes of the user commands: scripts may rely on them (they are part of the CLI's interface)."""

from __future__ import annotations

OK = 0
FAILED = 1  # the operation ran but did not succeed: DEPLOY_FAILED, INTERRUPTED, SKIPPED, other errors
USAGE = 2  # bad flags or arguments (argparse uses 2 as well)
NOT_FOUND = 3  # 404: no such deployment, revision, listener or key
CONFLICT = 4  # 409: a duplicate name, a refused transition, an object in use
AUTH = 5  # 401/403: a missing, unknown or revoked API key, or not allowed for this key
INVALID = 6  # 422 (and 400/413): the API refused a value; the field and the reason are printed
UNAVAILABLE = 7  # the control plane cannot be reached, or answers 502/503/504
TIMEOUT = 124  # --wait / wait: the deadline (--timeout) passed first (as timeout(1) does)

HELP = """\
exit codes:
  0    success (with --wait: the revision is DEPLOYED)
  1    the operation ran but failed (DEPLOY_FAILED, INTERRUPTED, SKIPPED; other errors)
  2    usage error: bad flags or arguments
  3    not found (HTTP 404)
  4    conflict (HTTP 409): duplicate name, refused transition, object in use
  5    authentication or permission (HTTP 401/403)
  6    invalid input (HTTP 422): the field and the reason are printed
  7    control plane unavailable: connection error, timeout, HTTP 502/503/504
  124  --wait timed out (--timeout SECONDS)"""


def for_http_status(status: int) -> int:
    """The exit code for an HTTP error status (only called for status >= 400)."""
    if status == 404:
        return NOT_FOUND
    if status == 409:
        return CONFLICT
    if status in (401, 403):
        return AUTH
    if status in (400, 413, 422):
        return INVALID
    if status in (502, 503, 504):
        return UNAVAILABLE
    return FAILED
