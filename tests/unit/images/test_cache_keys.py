"""Cache keys: a layer's key changes when anything that goes into it changes, and not otherwise;
a second build with the same inputs builds nothing; a record whose blob is gone is rebuilt."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from lgp_local.images import build, recipes
from lgp_local.images.builder import ImageSpec, image_key
from lgp_local.images.layers import DebianRootfs, Files, PipPackages, User, layer_key
from lgp_local.images.oci import Entry, ImageConfig
from lgp_local.images.store import Store

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "agent"


def _files(*entries: Entry, label: str = "x") -> Files:
    return Files(tuple(entries), label)


BASE = Entry("/etc/app.conf", mode=0o644, data=b"a=1\n")


@pytest.mark.parametrize(
    ("changed", "why"),
    [
        (Entry("/etc/app.conf", mode=0o644, data=b"a=2\n"), "content"),
        (Entry("/etc/app.conf", mode=0o600, data=b"a=1\n"), "mode"),
        (Entry("/etc/app.conf", mode=0o644, uid=999, data=b"a=1\n"), "owner"),
        (Entry("/etc/app2.conf", mode=0o644, data=b"a=1\n"), "path"),
        (Entry("/etc/app.conf", mode=0o644, link="a=1\n"), "kind"),
    ],
)
def test_a_files_layer_key_follows_its_entries(changed, why):
    assert layer_key(_files(BASE)) != layer_key(_files(changed)), why


def test_a_files_layer_key_ignores_order_and_label():
    other = Entry("/etc/other", data=b"")
    assert layer_key(_files(BASE, other, label="a")) == layer_key(_files(other, BASE, label="b"))


def test_a_files_layer_key_reads_source_files_by_content_not_mtime(tmp_path):
    src = tmp_path / "f"
    src.write_text("one")
    layer = _files(Entry("/f", source=src))
    key = layer_key(layer)
    os.utime(src, (time.time() - 3600, time.time() - 3600))
    assert layer_key(layer) == key
    src.write_text("two")
    assert layer_key(layer) != key


def test_a_pip_layer_key_follows_requirements_constraints_and_config_but_not_its_label():
    base = PipPackages(requirements=("langgraph-api==0.11.1",), constraints="x==1\n", label="a")
    assert layer_key(base) == layer_key(PipPackages(base.requirements, base.constraints, label="b"))
    for other in (
        PipPackages(("langgraph-api==0.11.1", "httpx"), base.constraints),
        PipPackages(base.requirements, "x==2\n"),
        PipPackages(base.requirements, base.constraints, requirement_files=(("requirements.txt", "y\n"),)),
        PipPackages(base.requirements, base.constraints, pip_config="[global]\nindex-url = x\n"),
    ):
        assert layer_key(other) != layer_key(base)


def test_a_debian_layer_key_follows_packages_users_removals_and_the_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "sources"
    mirror.write_text("deb http://a.example/debian bookworm main\n")
    monkeypatch.setenv("LGP_DEBIAN_MIRROR", str(mirror))
    base = DebianRootfs(packages=("python3",))
    key = layer_key(base)
    assert layer_key(DebianRootfs(packages=("python3",))) == key
    assert layer_key(DebianRootfs(packages=("python3", "ca-certificates"))) != key
    assert layer_key(DebianRootfs(packages=("python3",), users=(User("a", 1000, 1000, "/home/a"),))) != key
    assert layer_key(DebianRootfs(packages=("python3",), remove=("/usr/share/x",))) != key
    mirror.write_text("deb http://b.example/debian bookworm main\n")
    assert layer_key(base) != key


def test_the_server_image_keys_split_dependencies_from_the_project(tmp_path):
    project = tmp_path / "agent"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    spec = recipes.server(project)
    keys = [layer_key(layer) for layer in spec.layers]
    again = [layer_key(layer) for layer in recipes.server(project).layers]
    assert keys == again

    # a change to the code rebuilds the project layer only
    (project / "agent.py").write_text((project / "agent.py").read_text() + "\n# changed\n")
    changed = [layer_key(layer) for layer in recipes.server(project).layers]
    assert changed[:-1] == keys[:-1] and changed[-1] != keys[-1]

    # a new dependency changes the pip layer, not the Debian one
    config = project / "langgraph.json"
    config.write_text(config.read_text().replace('["."]', '[".", "httpx"]'))
    dep = [layer_key(layer) for layer in recipes.server(project).layers]
    assert dep[0] == keys[0] and dep[2] != keys[2]

    # files a Docker build context would leave out do not count
    (project / "__pycache__").mkdir(exist_ok=True)
    (project / "__pycache__" / "agent.cpython-311.pyc").write_bytes(b"junk")
    (project / ".dockerignore").write_text("notes.txt\n")
    before = layer_key(recipes.server(project).layers[-1])
    (project / "notes.txt").write_text("private")
    assert layer_key(recipes.server(project).layers[-1]) == before


def _spec(data: bytes) -> ImageSpec:
    return ImageSpec(
        layers=(_files(Entry("/etc", mode=0o755), Entry("/etc/a", data=data)),),
        config=ImageConfig(user="1000:1000", env={"PATH": "/bin"}),
        description="t",
    )


def test_a_second_build_with_the_same_inputs_builds_nothing(tmp_path):
    store = Store(tmp_path)
    first = build(_spec(b"1"), store=store)
    assert first.built_layers == 1
    second = build(_spec(b"1"), store=store)
    assert second.built_layers == 0 and second.manifest == first.manifest
    third = build(_spec(b"2"), store=store)
    assert third.built_layers == 1 and third.manifest != first.manifest
    assert image_key(_spec(b"1")) != image_key(_spec(b"2"))


def test_a_record_whose_blob_is_gone_is_rebuilt(tmp_path):
    store = Store(tmp_path)
    first = build(_spec(b"1"), store=store)
    store.blob(first.layers[0].digest).unlink()
    again = build(_spec(b"1"), store=store)
    assert again.built_layers == 1 and again.layers == first.layers
    assert store.has_blob(first.layers[0].digest, first.layers[0].size)


def test_the_cache_lives_under_the_lgp_cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LGP_CACHE_DIR", str(tmp_path / "c"))
    assert Store().root == tmp_path / "c" / "images"
