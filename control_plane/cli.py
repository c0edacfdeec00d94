"""`lgp control-plane serve|migrate|rotate-keys|create-api-key|settings`: the control plane's commands."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from control_plane.core.config import Settings


def _settings() -> Settings:
    from control_plane.core.config import Settings

    return Settings()  # type: ignore[call-arg]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from control_plane.main import create_app

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    common: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": settings.log_level.lower(),
        "proxy_headers": True,
        "timeout_graceful_shutdown": 10,
        "http": "control_plane.core.http:NoDelayH11Protocol",  # TCP_NODELAY with any number of workers
    }
    if args.workers > 1:  # each worker process builds the app from the same LGP_* environment
        uvicorn.run("control_plane.main:create_app", factory=True, workers=args.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
    return 0


def _create_api_key(args: argparse.Namespace) -> int:
    """Bootstrap without an admin key: a key for a tenant (created if missing), printed once."""
    from sqlmodel import Session, select

    from control_plane.core.db import make_engine
    from control_plane.crud import keys as keys_crud
    from control_plane.models import Tenant

    settings = _settings()
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            tenant = session.exec(select(Tenant).where(Tenant.name == args.tenant)).first()
            if tenant is None:
                tenant = keys_crud.create_tenant(session, name=args.tenant)
            _, plaintext = keys_crud.create_api_key(session, tenant_id=tenant.id, name=args.name)
            session.commit()
    finally:
        engine.dispose()
    print(plaintext)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from control_plane.core.db import downgrade, migrate

    settings = _settings()
    if args.downgrade:
        downgrade(settings.database_url, args.downgrade)
        print(f"database downgraded to {args.downgrade}")
    else:
        migrate(settings.database_url, args.revision)
        print(f"database migrated to {args.revision}")
    return 0


def _rotate_keys(_: argparse.Namespace) -> int:
    from control_plane.core.db import make_engine
    from control_plane.core.rotation import rotate_sealed

    settings = _settings()
    engine = make_engine(settings)
    try:
        n = rotate_sealed(engine, settings)
    finally:
        engine.dispose()
    print(f"re-encrypted {n} sealed value(s) with the first key of LGP_ENCRYPTION_KEYS")
    return 0


def _describe(_: argparse.Namespace) -> int:
    from control_plane.core.config import describe_settings

    for env, default, description in describe_settings():
        print(f"{env}\n    default: {default}\n    {description}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="lgp control-plane", description="The lgp control plane API server."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="run the API server (migrates first unless LGP_MIGRATE_ON_START=false)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1, help="server processes (they share the database)")
    serve.set_defaults(func=_serve)
    mig = sub.add_parser("migrate", help="apply database migrations (to the newest by default)")
    mig.add_argument("--revision", default="head", help="upgrade to this Alembic revision")
    mig.add_argument("--downgrade", metavar="REVISION", help="downgrade to this revision instead (e.g. base)")
    mig.set_defaults(func=_migrate)
    rot = sub.add_parser(
        "rotate-keys", help="re-encrypt every stored secret with the first LGP_ENCRYPTION_KEYS key"
    )
    rot.set_defaults(func=_rotate_keys)
    key = sub.add_parser("create-api-key", help="print a new API key for a tenant (created if missing)")
    key.add_argument("--tenant", default="default", help="tenant name (default: default)")
    key.add_argument("--name", default="bootstrap", help="a label for the key")
    key.set_defaults(func=_create_api_key)
    desc = sub.add_parser("settings", help="list every LGP_* setting with its default and meaning")
    desc.set_defaults(func=_describe)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as e:
        for err in e.errors():
            field = ".".join(str(x) for x in err["loc"]) or "settings"
            print(f"lgp control-plane: invalid setting LGP_{field.upper()}: {err['msg']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
