"""Fixtures for running lgp's images for real: the images (built or found in the cache) and a
private containerd (lgp_local.images.containerd) with them loaded. Where containerd cannot run here
(not root, no overlayfs, no cgroups) the tests are skipped with that reason; a missing Debian
package is a failure naming `make deps`."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lgp_local.images import build, load, recipes
from lgp_local.images.containerd import Containerd, unavailable

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "agent"
NAMES = {
    "postgres": "localhost/lgp-test/postgres:15",
    "redis": "localhost/lgp-test/redis:7",
    "agent": "agent:test",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.containerd)


@dataclass
class Loaded:
    ctrd: Containerd
    names: dict[str, str]
    timings: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def containerd() -> Iterator[Containerd]:
    why = unavailable()
    if why is not None:
        if "make deps" in why:
            pytest.fail(why)
        pytest.skip(f"real containers cannot run on this machine: {why}")
    if not shutil.which("mmdebstrap"):
        pytest.fail("mmdebstrap is not installed: run `make deps` (apt-get install mmdebstrap)")
    ctrd = Containerd.start()
    try:
        yield ctrd
    finally:
        ctrd.stop()


@pytest.fixture(scope="session")
def images(containerd: Containerd) -> Loaded:
    """Postgres, Redis and the example agent's server image, built (cached by content) and loaded."""
    loaded = Loaded(containerd, NAMES)
    specs = {"postgres": recipes.postgres, "redis": recipes.redis, "agent": lambda: recipes.server(EXAMPLE)}
    for key, factory in specs.items():
        t0 = time.monotonic()
        image = build(factory())
        t1 = time.monotonic()
        load(image, NAMES[key], address=containerd.address, namespace="default")
        loaded.timings[key] = (
            f"build {t1 - t0:.1f} s ({image.built_layers} layers built), load {time.monotonic() - t1:.1f} s, "
            f"{image.size / 2**20:.0f} MiB"
        )
    return loaded
