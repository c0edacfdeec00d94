"""Generated documentation stays in step with the code: docs/settings.md from the settings classes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_settings_doc_is_current():
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "settings-doc.py"), "--check"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr + "\nrun: make docs"


def test_every_readme_setting_table_points_to_the_generated_file():
    assert "docs/settings.md" in (ROOT / "README.md").read_text()
