"""The canonical JSON layout (reserves.liabilities.snapshot.dump_json) is exactly
``json.dumps(document, indent=2) + "\\n"``, for any document of strings (any Unicode),
integers, booleans, nulls, lists and objects."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reserves.liabilities.snapshot import dump_json

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**130), max_value=2**130) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(), VALUES, max_size=6))
def test_dump_json_is_json_dumps_with_indent_2(document: dict[str, Any]) -> None:
    assert dump_json(document) == json.dumps(document, indent=2) + "\n"


def test_empty_containers_and_escapes() -> None:
    document = {"a": [], "b": {}, "c": '\u00e9\u2028\ud83d\ude00"\\\n\x00', "d": [1, [2, {"e": None}]], "f": True}
    assert dump_json(document) == json.dumps(document, indent=2) + "\n"
