"""Where the CLI's settings come from: flags > env > config file > defaults, profiles, the TOML writer
(round-trips through tomllib), URL checks, and key masking."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgp_cli import config as cfg


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "lgp" / "config.toml"
    cfg.write_file(
        path,
        {
            "default": {"url": "https://file.example.com", "api_key": "file-key-0123456789"},
            "staging": {"url": "https://staging.example.com/v1/", "api_key": "staging-key-0123456789"},
        },
    )
    return path


def env_for(path: Path, **extra: str) -> dict[str, str]:
    return {"LGP_CONFIG": str(path), **extra}


def test_the_config_file_alone(conf: Path) -> None:
    s = cfg.resolve(env_for(conf))
    assert (s.url, s.api_key, s.profile) == ("https://file.example.com", "file-key-0123456789", "default")
    assert s.sources["url"] == f"config file {conf} [default]"


def test_env_beats_the_file_and_flags_beat_env(conf: Path) -> None:
    env = env_for(conf, LGP_URL="http://env.example.com", LGP_API_KEY="env-key")
    s = cfg.resolve(env)
    assert (s.url, s.api_key) == ("http://env.example.com", "env-key")
    assert s.sources == {"url": "env LGP_URL", "api_key": "env LGP_API_KEY"}
    s = cfg.resolve(env, url="http://flag.example.com", api_key="flag-key")
    assert (s.url, s.api_key) == ("http://flag.example.com", "flag-key")
    assert s.sources == {"url": "--url", "api_key": "--api-key"}


def test_key_files(conf: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    s = cfg.resolve(env_for(conf, LGP_API_KEY="env-key"), api_key_file=str(key_file))
    assert s.api_key == "from-file" and s.sources["api_key"] == "--api-key-file"
    s = cfg.resolve(env_for(conf, LGP_API_KEY_FILE=str(key_file)))
    assert s.api_key == "from-file" and s.sources["api_key"] == "env LGP_API_KEY_FILE"
    with pytest.raises(cfg.ConfigError, match="cannot read"):
        cfg.resolve(env_for(conf), api_key_file=str(tmp_path / "missing"))
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(cfg.ConfigError, match="is empty"):
        cfg.resolve(env_for(conf), api_key_file=str(tmp_path / "empty"))


def test_profiles(conf: Path) -> None:
    s = cfg.resolve(env_for(conf), profile="staging")
    assert s.url == "https://staging.example.com"  # trailing / and /v1 dropped
    assert cfg.resolve(env_for(conf, LGP_PROFILE="staging")).api_key == "staging-key-0123456789"
    assert cfg.resolve(env_for(conf, LGP_PROFILE="staging"), profile="default").profile == "default"
    with pytest.raises(cfg.ConfigError, match="profile 'prod' \\(from --profile\\) is not in"):
        cfg.resolve(env_for(conf), profile="prod")


def test_defaults_without_a_file(tmp_path: Path) -> None:
    s = cfg.resolve(env_for(tmp_path / "none.toml"))
    assert (s.url, s.api_key) == (cfg.DEFAULT_URL, None)
    assert s.sources == {"url": "default", "api_key": "not set"}


def test_where_the_file_is(tmp_path: Path) -> None:
    assert cfg.config_path({"LGP_CONFIG": "/x/y.toml"}) == Path("/x/y.toml")
    assert cfg.config_path({"XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/lgp/config.toml")
    assert cfg.config_path({}) == Path.home() / ".config" / "lgp" / "config.toml"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("url = 'x'\n", "must be a table"),
        ("[default]\nurl = 3\n", "url must be a string"),
        ("[default\n", "not valid TOML"),
    ],
)
def test_a_broken_file_is_reported(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(cfg.ConfigError, match=error):
        cfg.resolve(env_for(path))


@pytest.mark.parametrize("url", ["ftp://x", "example.com", "http://", "https:// space"])
def test_bad_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(cfg.ConfigError, match="must start with http"):
        cfg.resolve(env_for(tmp_path / "none"), url=url)


def test_written_with_mode_0600(conf: Path) -> None:
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert not list(conf.parent.glob(".*.tmp"))


@given(
    st.dictionaries(
        st.text(
            alphabet=st.characters(categories=("L", "N"), include_characters="-_"), min_size=1, max_size=10
        ),
        st.dictionaries(st.sampled_from(["url", "api_key", "other"]), st.text(max_size=30), max_size=3),
        max_size=4,
    )
)
def test_the_writer_round_trips_through_tomllib(profiles: dict[str, dict[str, str]]) -> None:
    assert tomllib.loads(cfg.dumps(profiles)) == profiles


def test_profile_names_and_masking() -> None:
    assert cfg.check_profile_name("prod-eu_1") == "prod-eu_1"
    with pytest.raises(cfg.ConfigError):
        cfg.check_profile_name("a b")
    assert cfg.mask(None) == "(not set)"
    assert cfg.mask("short") == "***"
    assert cfg.mask("lgp_abcdefgh12345678secret") == "lgp_abcd..."
