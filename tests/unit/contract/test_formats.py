"""The shared formats: each narrower pattern the control plane checks input with accepts only what the
custom resource's wider pattern accepts, and the image reference grammar on examples."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgp_contract import formats

NARROWER = [
    (formats.PINNED_IMAGE_REF, formats.IMAGE_REF),
    (formats.CPU_QUANTITY, formats.QUANTITY),
    (formats.MEMORY_QUANTITY, formats.QUANTITY),
    (formats.PORTABLE_ENV_NAME, formats.ENV_NAME),
    (formats.DNS_LABEL, formats.DNS_SUBDOMAIN),
    (formats.DNS_SUBDOMAIN, formats.HOSTNAME),
]


@pytest.mark.parametrize(("narrow", "wide"), NARROWER)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_what_the_api_accepts_the_resource_accepts(narrow: str, wide: str, data: st.DataObject) -> None:
    value = data.draw(st.from_regex(narrow, fullmatch=True))
    assert re.fullmatch(wide, value), value


@pytest.mark.parametrize(
    ("image", "pinned", "pullable"),
    [
        ("langchain/langgraph-api:3.11", True, True),
        ("registry.example.com:5000/team/agent:v1.2.3", True, True),
        ("agent@sha256:" + "a" * 64, True, True),
        ("ghcr.io/org/agent:1.0@sha256:" + "b" * 64, True, True),
        ("langchain/langgraph-api", False, True),  # a bare repository: whatever latest is
        ("Agent:1.0", False, False),  # upper case repository
        ("agent:", False, False),
        ("agent@sha256:abc", False, False),
        ("agent:1.0 ; rm -rf /", False, False),
    ],
)
def test_image_references(image: str, pinned: bool, pullable: bool) -> None:
    assert bool(re.fullmatch(formats.PINNED_IMAGE_REF, image)) is pinned
    assert bool(re.fullmatch(formats.IMAGE_REF, image)) is pullable
