"""``odr``: run the platform, one service, migrations, and operator chores.

    odr dev [--port 8000]            all four services and the gateway on one port, embedded defaults, dev mode
    odr serve SERVICE [--port N]     one service as its own process (production shape)
    odr migrate SERVICE|all          apply a service's migrations (production)
    odr makemigration SERVICE -m MSG autogenerate a migration from the service's models (developers)
    odr asyncapi [-o FILE]           the AsyncAPI 3 document of every event
    odr keys init [SERVICE|all]      create every key that is missing (token keyring, KEKs, seal keys)
    odr keys rotate                  add a new token signing key (old keys keep verifying)
    odr kek SERVICE ACTION [...]     a service's key-encryption-key chores, e.g. `odr kek agreements rotate`
                                     (rotate | rewrap | status; see services/<service>/keys.py)
    odr token --role admin --subject NAME   issue an access token with the local keyring (operators)

Every option can also be given as an ``ODR_`` environment variable (see the README).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from shared.config import Settings

from .services import SERVICES, app_module, keys_module


def _settings(args) -> Settings:
    overrides = {}
    for field in ("data_dir", "database_url", "bus", "kafka_bootstrap"):
        value = getattr(args, field, None)
        if value is not None:
            overrides[field] = value
    return Settings(**overrides)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", dest="data_dir", help="where embedded data lives (ODR_DATA_DIR, default ./var)")
    p.add_argument("--database-url", dest="database_url", help="database URL; {service} is replaced (ODR_DATABASE_URL)")
    p.add_argument("--bus", choices=["embedded", "kafka"], help="event bus backend (ODR_BUS)")
    p.add_argument("--kafka-bootstrap", dest="kafka_bootstrap", help="Kafka bootstrap servers (ODR_KAFKA_BOOTSTRAP)")


# How long an idle keep-alive connection stays open. The client (nginx's upstream pool: 60 s;
# browsers; httpx: 5 s) must be the one to close it: when the server closes first (uvicorn's
# default is 5 s), a request the client sends on that connection at the same moment meets a reset,
# and a POST is not retried. Seen under load as httpx.ReadError in the browser tests' API calls.
KEEP_ALIVE_SECONDS = 75


def cmd_dev(args) -> None:
    import uvicorn

    os.environ["ODR_DEV_MODE"] = "true"
    # Links in emails and notices lead to this run, on whatever port it listens (unless set).
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    os.environ.setdefault("ODR_PUBLIC_URL", f"http://{host}:{args.port}")
    settings = _settings(args)
    from .gateway import create_gateway

    app = create_gateway(settings)
    print(f"ODR is starting on http://{args.host}:{args.port}/  (data in {settings.data_dir.resolve()})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws_max_size=1 << 20,
                ws_per_message_deflate=False, forwarded_allow_ips=settings.forwarded_allow_ips,
                timeout_keep_alive=KEEP_ALIVE_SECONDS)


def cmd_serve(args) -> None:
    import uvicorn

    from shared.config import ConfigurationError

    settings = _settings(args)
    if settings.dev_mode:
        print("WARNING: ODR_DEV_MODE is on: anyone can mint tokens at /intake/dev/token. Never in production.",
              file=sys.stderr, flush=True)
    try:
        app = app_module(args.service).create_app(settings)
    except ConfigurationError as exc:  # a missing key or an unsafe setting: one line, no traceback
        sys.exit(f"odr serve {args.service}: {exc}")
    # root_path: the prefix the gateway strips (nginx, the Ingress); uvicorn puts it back into
    # each request's path and root_path, as ASGI wants, so links and OpenAPI `servers` are right.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws_max_size=1 << 20,
                ws_per_message_deflate=False, root_path=settings.root_path,
                forwarded_allow_ips=settings.forwarded_allow_ips, timeout_keep_alive=KEEP_ALIVE_SECONDS)


def cmd_migrate(args) -> None:
    from shared.db import create_engine
    from shared.migrations import upgrade

    settings = _settings(args)
    names = SERVICES if args.service == "all" else (args.service,)

    async def _run() -> None:
        for name in names:
            spec = app_module(name).SPEC
            engine = create_engine(settings.database_url_for(name))
            try:
                await upgrade(engine, spec.migrations)
            finally:
                await engine.dispose()
            print(f"{name}: migrated to head")

    asyncio.run(_run())


def cmd_makemigration(args) -> None:
    from alembic import command

    from shared.migrations import alembic_config

    settings = _settings(args)
    spec = app_module(args.service).SPEC
    cfg = alembic_config(spec.migrations, settings.database_url_for(args.service))
    command.upgrade(cfg, "head")
    command.revision(cfg, message=args.message, autogenerate=True)


def cmd_asyncapi(args) -> None:
    from .asyncapi import platform_asyncapi

    text = json.dumps(platform_asyncapi(), indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)


def cmd_keys(args) -> None:
    from shared.auth import KeyRing
    from shared.config import ConfigurationError
    from shared.files import write_private

    settings = _settings(args)
    path = settings.resolved_keyring
    if args.action == "init":
        # The one place keys come into being outside dev mode: an operator asks for them.
        existed = path.exists()
        ring = KeyRing.load(path, create=True)
        print(f"keyring {path}: {'kept' if existed else 'created'}, signing with {ring.active.kid if ring.active else '-'}")
        names = SERVICES if args.service == "all" else (args.service,)
        for name in names:
            spec = app_module(name).SPEC
            if spec.keys is not None:
                try:
                    spec.keys(settings, create=True)
                except ConfigurationError as exc:
                    sys.exit(f"odr keys init: {exc}")
                print(f"{name}: keys ready")
    else:
        ring = KeyRing.load(path, create=True).rotated() if path.exists() else KeyRing.load(path, create=True)
        write_private(path, ring.to_json())
        print(f"keyring {path}: {len(ring.keys)} keys, signing with {ring.active.kid}")
    if args.public_out:
        Path(args.public_out).write_text(ring.to_json(include_private=False))


def cmd_kek(args) -> None:
    """Delegate to the service's own ``keys`` module: only it knows where its data keys live."""
    try:
        module = keys_module(args.service)
    except ModuleNotFoundError:  # an image that holds another service
        module = None
    if module is None:
        sys.exit(f"odr kek: the {args.service} service keeps no re-wrappable data keys")
    module.main(args.rest)


def cmd_token(args) -> None:
    from shared.auth import KeyRing, TokenService

    settings = _settings(args)
    tokens = TokenService(KeyRing.load(settings.resolved_keyring), issuer=settings.jwt_issuer)
    print(tokens.issue(subject=args.subject, role=args.role, cases=args.case or [], court=args.court,
                       ttl_seconds=args.ttl))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="odr", description="Online dispute resolution platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("dev", help="run all services and the gateway on one port (embedded defaults, dev mode)")
    p.add_argument("--port", type=int, default=int(os.environ.get("ODR_PORT", 8000)))
    p.add_argument("--host", default=os.environ.get("ODR_HOST", "127.0.0.1"))
    _add_common(p)
    p.set_defaults(func=cmd_dev)

    p = sub.add_parser("serve", help="run one service as its own process")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--port", type=int, default=int(os.environ.get("ODR_PORT", 8000)))
    p.add_argument("--host", default=os.environ.get("ODR_HOST", "0.0.0.0"))
    _add_common(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply migrations")
    p.add_argument("service", choices=(*SERVICES, "all"))
    _add_common(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("makemigration", help="autogenerate a migration for a service")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("-m", "--message", required=True)
    _add_common(p)
    p.set_defaults(func=cmd_makemigration)

    p = sub.add_parser("asyncapi", help="print the AsyncAPI 3 document")
    p.add_argument("-o", "--output")
    p.set_defaults(func=cmd_asyncapi)

    p = sub.add_parser("keys", help="create missing keys (init) or add a token signing key (rotate)")
    p.add_argument("action", choices=["init", "rotate"])
    p.add_argument("service", nargs="?", choices=(*SERVICES, "all"), default="all",
                   help="init: whose keys (default all); the token keyring is always made if missing")
    p.add_argument("--public-out", help="also write a public-only keyring for verify-only services")
    _add_common(p)
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("kek", help="a service's key-encryption-key chores (rotate, rewrap, status)")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("rest", nargs=argparse.REMAINDER, help="the action and its options")
    p.set_defaults(func=cmd_kek)

    p = sub.add_parser("token", help="issue an access token with the local keyring")
    p.add_argument("--role", required=True, choices=["party", "mediator", "court", "admin"])
    p.add_argument("--subject", required=True)
    p.add_argument("--case", action="append")
    p.add_argument("--court")
    p.add_argument("--ttl", type=int, default=900)
    _add_common(p)
    p.set_defaults(func=cmd_token)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
