"""`lgp license`: make a key pair, issue a license token, verify one.

    lgp license keygen --out DIR
    lgp license issue --private-key PATH --licensee X --plan P --days N [--not-before ISO]
                      [--max-deployments N] [--feature F ...] [--license-id ID]
    lgp license verify TOKEN|- [--public-key PATH ...] [--grace-days N] [--leeway-seconds N]

``verify`` trusts the embedded lgp key and LGP_LICENSE_PUBLIC_KEYS / LGP_LICENSE_PUBLIC_KEYS_FILE,
plus every ``--public-key`` given. It prints the claims as JSON and exits 0 when the license is
usable (valid or in its grace period), or prints the reason and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .keys import (
    KeyLoadError,
    generate_private_key,
    key_id,
    load_private_key_file,
    load_public_key_file,
    load_trusted_keys,
    private_key_pem,
    public_key_pem,
)
from .tokens import DEFAULT_GRACE, DEFAULT_LEEWAY, evaluate_license, issue_license


def _iso(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lgp license", description="License keys and tokens.")
    sub = p.add_subparsers(dest="cmd", required=True)

    k = sub.add_parser("keygen", help="write an Ed25519 key pair (private.pem, public.pem)")
    k.add_argument("--out", required=True, type=Path, help="directory to write the key pair into")
    k.add_argument("--force", action="store_true", help="overwrite existing files")

    i = sub.add_parser("issue", help="print a signed license token")
    i.add_argument("--private-key", required=True, type=Path, help="Ed25519 private key (PEM)")
    i.add_argument("--licensee", required=True)
    i.add_argument("--plan", required=True)
    i.add_argument("--days", required=True, type=int, help="validity in days from not-before")
    i.add_argument("--not-before", type=_iso, help="start of validity (ISO 8601; default now)")
    i.add_argument("--max-deployments", type=int, help="deployment cap (default: no cap)")
    i.add_argument("--feature", action="append", default=[], help="a licensed feature (repeatable)")
    i.add_argument("--license-id", help="license id (default: a random UUID)")

    v = sub.add_parser("verify", help="verify a token; exit 0 when usable, 1 otherwise")
    v.add_argument("token", help="the token, or - to read it from standard input")
    v.add_argument("--public-key", action="append", default=[], type=Path, help="extra trusted public key")
    v.add_argument("--grace-days", type=float, default=DEFAULT_GRACE.total_seconds() / 86400)
    v.add_argument("--leeway-seconds", type=float, default=DEFAULT_LEEWAY.total_seconds())
    return p


def _keygen(args: argparse.Namespace) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    priv_path, pub_path = out / "private.pem", out / "public.pem"
    if not args.force and (priv_path.exists() or pub_path.exists()):
        print(
            f"lgp license keygen: {out} already holds a key pair (use --force to overwrite)", file=sys.stderr
        )
        return 1
    key = generate_private_key()
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private_key_pem(key))
    pub_path.write_bytes(public_key_pem(key.public_key()))
    print(f"wrote {priv_path} (keep it secret) and {pub_path}; key id {key_id(key.public_key())}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    if args.days <= 0:
        print("lgp license issue: --days must be a positive number", file=sys.stderr)
        return 2
    if args.max_deployments is not None and args.max_deployments < 0:
        print("lgp license issue: --max-deployments must not be negative", file=sys.stderr)
        return 2
    key = load_private_key_file(args.private_key)
    nbf = args.not_before or datetime.now(UTC)
    try:
        token = issue_license(
            key,
            licensee=args.licensee,
            plan=args.plan,
            not_before=nbf,
            expires_at=nbf + timedelta(days=args.days),
            max_deployments=args.max_deployments,
            features=args.feature,
            license_id=args.license_id,
        )
    except ValueError as e:
        print(f"lgp license issue: {e}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _verify(args: argparse.Namespace) -> int:
    token = sys.stdin.read() if args.token == "-" else args.token  # noqa: S105 (stdin marker)
    keys = load_trusted_keys()
    for path in args.public_key:
        for k in load_public_key_file(path):
            keys[key_id(k)] = k
    state = evaluate_license(
        token.strip(),
        keys,
        leeway=timedelta(seconds=args.leeway_seconds),
        grace=timedelta(days=args.grace_days),
    )
    print(json.dumps(state.to_dict(), indent=2))
    if state.usable:
        if state.warning:
            print(f"warning: {state.warning}", file=sys.stderr)
        return 0
    assert state.error is not None
    print(f"refused ({state.error.reason.value}): {state.error.message}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.cmd == "keygen":
            return _keygen(args)
        if args.cmd == "issue":
            return _issue(args)
        return _verify(args)
    except KeyLoadError as e:
        print(f"lgp license {args.cmd}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
