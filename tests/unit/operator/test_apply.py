"""The pure parts of apply-only-what-changed: the subset comparison and the applied-state hash."""

from __future__ import annotations

import pytest
from lgp_operator.k8s.apply import HASH_ANNOTATION, desired_hash, is_subset, with_hash


@pytest.mark.parametrize(
    ("want", "have", "expected"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 2], "c": 3}}, True),
        ({"a": [{"x": 1}]}, {"a": [{"x": 1, "defaulted": True}]}, True),
        ({"a": [{"x": 1}]}, {"a": [{"x": 1}, {"x": 2}]}, False),
        ({"a": 1}, {}, False),
        ({"replicas": 2}, {"replicas": 5}, False),
    ],
)
def test_is_subset(want, have, expected):
    assert is_subset(want, have) is expected


def test_hash_annotation_changes_with_the_desired_object():
    obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "a", "namespace": "n"},
        "spec": {"x": 1},
    }
    h1 = with_hash(obj)["metadata"]["annotations"][HASH_ANNOTATION]
    obj2 = {**obj, "spec": {"x": 2}}
    assert h1 == desired_hash(obj) != desired_hash(obj2)
    assert "annotations" not in obj["metadata"]  # the input is not modified
