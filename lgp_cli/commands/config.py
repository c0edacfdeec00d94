"""`lgp config ...`: set, unset and show the config file's settings (url, api_key per profile)."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from lgp_cli import config as cfg
from lgp_cli import exit_codes, output
from lgp_cli.context import Ctx, actions
from lgp_cli.inputs import UsageError


def _profile_name(ctx: Ctx) -> str:
    return cfg.check_profile_name(ctx.opt("profile") or ctx.env.get("LGP_PROFILE") or cfg.DEFAULT_PROFILE)


def _config_key(name: str) -> str:
    key = name.replace("-", "_")
    if key not in cfg.KEYS:
        raise UsageError(f"unknown setting {name!r}: use one of {', '.join(cfg.KEYS)}")
    return key


def config_set(ctx: Ctx) -> int:
    key = _config_key(ctx.args.key)
    value = ctx.args.value
    if value is None:
        if key != "api_key":
            raise UsageError(f"lgp config set {key} VALUE: the value is missing")
        tty = ctx.stdin.isatty()
        value = (getpass.getpass("API key: ", stream=ctx.err) if tty else ctx.stdin.readline()).strip()
        if not value:
            raise UsageError("no API key given")
    elif key == "api_key":
        ctx.note(
            "lgp: note: a key on the command line stays in your shell history; "
            "`lgp config set api_key` without a value reads it from stdin"
        )
    if key == "url":
        value = cfg.normalize_url(value, "the command line")
    path = cfg.config_path(ctx.env)
    profiles = cfg.read_file(path)
    name = _profile_name(ctx)
    profiles.setdefault(name, {})[key] = value
    cfg.write_file(path, profiles)
    shown = cfg.mask(value) if key == "api_key" else value
    ctx.note(f"set {key} = {shown} in {path} [{name}]")
    return exit_codes.OK


def config_unset(ctx: Ctx) -> int:
    key = _config_key(ctx.args.key)
    path = cfg.config_path(ctx.env)
    profiles = cfg.read_file(path)
    name = _profile_name(ctx)
    if key in profiles.get(name, {}):
        del profiles[name][key]
        cfg.write_file(path, profiles)
        ctx.note(f"removed {key} from {path} [{name}]")
    else:
        ctx.note(f"{key} is not set in {path} [{name}]")
    return exit_codes.OK


def config_show(ctx: Ctx) -> int:
    s = ctx.settings()
    shown = {
        "profile": s.profile,
        "config_file": str(s.config_path),
        "url": s.url,
        "url_source": s.sources["url"],
        "api_key": cfg.mask(s.api_key),
        "api_key_source": s.sources["api_key"],
        "profiles": sorted(cfg.read_file(s.config_path)),
    }
    ctx.emit(
        shown,
        lambda o: output.details(
            [
                ("profile", o["profile"]),
                ("config file", o["config_file"]),
                ("url", f"{o['url']}  (from {o['url_source']})"),
                ("api key", f"{o['api_key']}  (from {o['api_key_source']})"),
                ("profiles", o["profiles"]),
            ]
        ),
    )
    return exit_codes.OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = actions(
        sub,
        "config",
        help="the config file: url and api_key per profile",
        description="Settings come from flags, then env (LGP_URL, LGP_API_KEY, LGP_API_KEY_FILE, "
        "LGP_PROFILE), then the config file (LGP_CONFIG or ~/.config/lgp/config.toml), then defaults.",
    )
    p = s.add_parser(
        "set",
        parents=[common],
        help="set url or api_key in the profile (api_key without a value: read stdin)",
    )
    p.add_argument("key", metavar="KEY", help="url or api_key")
    p.add_argument("value", metavar="VALUE", nargs="?")
    p.set_defaults(func=config_set)
    p = s.add_parser("unset", parents=[common], help="remove a setting from the profile")
    p.add_argument("key", metavar="KEY")
    p.set_defaults(func=config_unset)
    p = s.add_parser(
        "show", parents=[common], help="the settings in effect and where each comes from (key masked)"
    )
    p.set_defaults(func=config_show)
