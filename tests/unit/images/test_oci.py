"""The OCI writer's pure parts: image names as the kubelet looks them up, deterministic layer tars,
config/manifest/index digests, and archives that umoci (an independent implementation) unpacks."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from lgp_local.images.oci import (
    MEDIA_LAYER,
    Descriptor,
    Entry,
    ImageConfig,
    encode,
    image_config,
    image_index,
    image_manifest,
    normalize_reference,
    read_archive_index,
    sha256_bytes,
    tree_entries,
    write_archive,
    write_layer,
)


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("redis", "docker.io/library/redis:latest"),
        ("redis:7-alpine", "docker.io/library/redis:7-alpine"),
        ("postgres:16-alpine", "docker.io/library/postgres:16-alpine"),
        ("acme/bot:1.4", "docker.io/acme/bot:1.4"),
        ("ghcr.io/acme/support-bot:1.4", "ghcr.io/acme/support-bot:1.4"),
        ("localhost/lgp/postgres:15-bookworm", "localhost/lgp/postgres:15-bookworm"),
        ("registry.example:5000/a/b", "registry.example:5000/a/b:latest"),
        ("agent@sha256:" + "a" * 64, "docker.io/library/agent@sha256:" + "a" * 64),
    ],
)
def test_names_are_normalized_as_the_cri_looks_them_up(name, ref):
    assert normalize_reference(name) == ref


@pytest.mark.parametrize("name", ["", "Agent:1", "agent:bad tag", " agent", "agent:", "a//b", "agent:-x"])
def test_invalid_names_are_refused_with_the_reason(name):
    with pytest.raises(ValueError, match="invalid image name"):
        normalize_reference(name)


def _members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.getmembers()


def test_a_layer_holds_exactly_its_entries_sorted_with_fixed_metadata(tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * 5000)
    entries = [
        Entry("/storage/entrypoint.sh", mode=0o755, data=b"#!/bin/sh\n"),
        Entry("/storage", mode=0o755),
        Entry("/run/postgresql", mode=0o3777, uid=999, gid=999),
        Entry("/usr/local/bin/x", source=src, mode=0o644),
        Entry("/usr/bin/pg", link="../lib/postgresql/15/bin/pg_isready"),
    ]
    out = io.BytesIO()
    write_layer(entries, out)
    members = _members(out.getvalue())
    assert [m.name for m in members] == [
        "run/postgresql",
        "storage",
        "storage/entrypoint.sh",
        "usr/bin/pg",
        "usr/local/bin/x",
    ]  # no parent directories added: lower layers keep theirs
    by_name = {m.name: m for m in members}
    assert by_name["run/postgresql"].isdir() and by_name["run/postgresql"].mode == 0o3777
    assert (by_name["run/postgresql"].uid, by_name["run/postgresql"].gid) == (999, 999)
    assert (
        by_name["usr/bin/pg"].issym()
        and by_name["usr/bin/pg"].linkname == "../lib/postgresql/15/bin/pg_isready"
    )
    assert by_name["usr/local/bin/x"].size == 5000
    assert {m.mtime for m in members} == {0} and {m.uname for m in members} == {""}
    again = io.BytesIO()
    write_layer(list(reversed(entries)), again)
    assert again.getvalue() == out.getvalue()


def test_relative_layer_paths_are_refused():
    with pytest.raises(ValueError, match="absolute"):
        write_layer([Entry("etc/passwd", data=b"")], io.BytesIO())


def test_a_tree_keeps_modes_and_symlinks_and_sets_owners(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "pkg" / "run.sh").chmod(0o750)
    (tmp_path / "link").symlink_to("pkg/run.sh")
    entries = {e.path: e for e in tree_entries(tmp_path, "/deps/x", uid=1000, gid=1000)}
    assert set(entries) == {"/deps/x", "/deps/x/pkg", "/deps/x/pkg/run.sh", "/deps/x/link"}
    assert entries["/deps/x/pkg/run.sh"].mode == 0o750 and entries["/deps/x/pkg/run.sh"].uid == 1000
    assert entries["/deps/x/link"].link == "pkg/run.sh"


def test_config_manifest_and_index_reference_each_other_by_digest():
    layer = Descriptor(MEDIA_LAYER, sha256_bytes(b"layer"), 5)
    config = image_config(
        ImageConfig(
            user="999:999", env={"PATH": "/bin", "PGDATA": "/d"}, entrypoint=("e",), stop_signal="SIGINT"
        ),
        [layer.digest],
        ["made here"],
    )
    assert config["rootfs"]["diff_ids"] == [layer.digest]  # uncompressed: digest == diff_id
    assert config["config"]["User"] == "999:999" and config["config"]["StopSignal"] == "SIGINT"
    assert config["config"]["Env"] == ["PATH=/bin", "PGDATA=/d"]
    cfg_desc = Descriptor("application/vnd.oci.image.config.v1+json", sha256_bytes(encode(config)), 1)
    manifest = image_manifest(cfg_desc, [layer])
    assert manifest["config"]["digest"] == cfg_desc.digest and manifest["layers"][0]["digest"] == layer.digest
    man_desc = Descriptor("application/vnd.oci.image.manifest.v1+json", sha256_bytes(encode(manifest)), 9)
    index = image_index(man_desc, "agent:dev")
    (entry,) = index["manifests"]
    assert entry["digest"] == man_desc.digest
    assert entry["annotations"] == {
        "io.containerd.image.name": "docker.io/library/agent:dev",
        "org.opencontainers.image.ref.name": "dev",
    }
    assert entry["platform"] == {"architecture": "amd64", "os": "linux"}


def test_canonical_json_is_stable():
    assert encode({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == b'{"a":[1,{"c":3,"d":2}],"b":1}'


def test_an_archive_holds_layout_index_and_every_blob_under_its_digest(tmp_path):
    blob_file = tmp_path / "layer.tar"
    blob_file.write_bytes(b"some layer bytes")
    blobs: dict[str, Path | bytes] = {
        "sha256:" + hashlib.sha256(b"some layer bytes").hexdigest(): blob_file,
        sha256_bytes(b"{}"): b"{}",
    }
    index = {"schemaVersion": 2, "manifests": []}
    path = tmp_path / "a.oci.tar"
    with open(path, "wb") as f:
        write_archive(f, index, blobs)
    with tarfile.open(path) as t:
        names = t.getnames()
        assert names[:2] == ["oci-layout", "index.json"]
        assert json.loads(t.extractfile("oci-layout").read()) == {"imageLayoutVersion": "1.0.0"}  # type: ignore[union-attr]
        for digest in blobs:
            data = t.extractfile("blobs/sha256/" + digest.split(":")[1]).read()  # type: ignore[union-attr]
            assert sha256_bytes(data) == digest
    assert read_archive_index(path) == index
    assert read_archive_index(tmp_path / "missing.tar") is None


def test_umoci_unpacks_an_image_written_here(tmp_path):
    """umoci (Debian's, an independent OCI implementation) checks every digest while unpacking."""
    if not shutil.which("umoci"):
        pytest.fail("umoci is not installed: run `make deps` (apt-get install umoci)")
    from lgp_local.images import build, write_image_archive
    from lgp_local.images.builder import ImageSpec
    from lgp_local.images.layers import Files
    from lgp_local.images.store import Store

    spec = ImageSpec(
        layers=(
            Files((Entry("/etc", mode=0o755), Entry("/etc/hello", mode=0o644, data=b"one\n")), "first"),
            Files((Entry("/etc/hello", mode=0o600, uid=999, gid=999, data=b"two\n"),), "second"),
        ),
        config=ImageConfig(user="999:999", env={"PATH": "/bin"}, cmd=("cat", "/etc/hello")),
        description="test",
    )
    image = build(spec, store=Store(tmp_path / "store"))
    write_image_archive(image, "localhost/test/hello:1", tmp_path / "hello.oci.tar")
    layout = tmp_path / "layout"
    layout.mkdir()
    with tarfile.open(tmp_path / "hello.oci.tar") as t:
        t.extractall(layout, filter="data")
    proc = subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout}:1", str(tmp_path / "bundle")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "bundle" / "rootfs" / "etc" / "hello").read_text() == "two\n"  # upper layer wins
    runtime = json.loads((tmp_path / "bundle" / "config.json").read_text())
    assert runtime["process"]["args"] == ["cat", "/etc/hello"]
    stat = subprocess.run(
        ["umoci", "stat", "--json", "--image", f"{layout}:1"], capture_output=True, text=True, check=True
    )
    history = json.loads(stat.stdout)["history"]
    assert [h["created_by"] for h in history] == ["first", "second"]
