"""The import graph of the shipped packages has no loop (import-linter's contracts check the layers and
that the planes meet only through lgp_contract; this checks that no two modules import each other)."""

from __future__ import annotations

import grimp
import pytest


@pytest.mark.parametrize("packages", [("control_plane", "lgp_contract"), ("lgp_operator", "lgp_contract")])
def test_no_import_loop(packages: tuple[str, ...]) -> None:
    graph = grimp.build_graph(*packages)
    loops = sorted(
        {
            tuple(sorted((module, imported)))
            for module in graph.modules
            for imported in graph.find_modules_directly_imported_by(module)
            if graph.chain_exists(importer=imported, imported=module)
        }
    )
    assert not loops, f"modules that import each other, directly or through others: {loops}"
