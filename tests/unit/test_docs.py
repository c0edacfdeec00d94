"""Generated documentation stays in step with the code: docs/settings.md from the settings classes, the
listener protocol's message tables from the contract's models."""

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


def test_protocol_doc_is_current():
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "protocol-doc.py"), "--check"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr + "\nrun: make docs"


def test_protocol_doc_names_every_message_of_the_contract():
    from pydantic import BaseModel

    from lgp_contract import protocol

    text = (ROOT / "docs" / "listener-protocol.md").read_text()
    messages = {
        name
        for name, obj in vars(protocol).items()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == protocol.__name__
    }
    missing = {m for m in messages - {"Request", "RevisionRef", "DeploymentRef"} if f"`{m}`" not in text}
    assert not missing, f"messages the document does not show: {sorted(missing)}"


def test_the_protocol_docs_example_is_a_desired_state():
    import json
    import re

    from lgp_contract.protocol import DesiredState

    text = (ROOT / "docs" / "listener-protocol.md").read_text()
    [example] = [b for b in re.findall(r"```json\n(.*?)```", text, re.S) if '"deployments"' in b]
    state = DesiredState.model_validate(json.loads(example))
    assert json.loads(state.model_dump_json()) == json.loads(example)  # the spec travels as written


def test_every_readme_setting_table_points_to_the_generated_file():
    assert "docs/settings.md" in (ROOT / "README.md").read_text()
