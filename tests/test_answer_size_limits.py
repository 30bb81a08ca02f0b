"""Measuring an answer against the size cap: the same bytes as the json module writes, the size in UTF-8 bytes
(not characters), the same decision one byte either side of the cap, and an early stop on a huge answer.

Expected sizes are worked out by hand from the answer's shape; byte strings are compared with the json module's
own encoders (one call of ``json.dumps`` over the whole answer, and the incremental pure-Python encoder that
``encoded_within`` used before)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from aifinops.answers.args import MAX_ANSWER_BYTES, fit, json_default
from aifinops.answers.limits import encoded_within


class _Model(BaseModel):
    name: str
    cost: float


def _whole(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=json_default, ensure_ascii=False)


def _incremental(obj: Any) -> str:
    encoder = json.JSONEncoder(separators=(",", ":"), default=json_default, ensure_ascii=False)
    return "".join(encoder.iterencode(obj))


def _random_answer(rng: random.Random, depth: int = 0) -> Any:
    leaves = [lambda: rng.random() * 10 ** rng.randint(-9, 9), lambda: rng.randint(-10**12, 10**12),
              lambda: "".join(rng.choice("aé€😀\"\\\n\t/x") for _ in range(rng.randint(0, 12))),
              lambda: None, lambda: rng.random() < 0.5, lambda: date(2025, 1, rng.randint(1, 28)),
              lambda: datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC), lambda: _Model(name="m€", cost=rng.random())]
    kind = rng.random()
    if depth > 3 or kind < 0.4:
        return rng.choice(leaves)()
    if kind < 0.7:
        return [_random_answer(rng, depth + 1) for _ in range(rng.randint(0, 8))]
    if kind < 0.75:
        return tuple(_random_answer(rng, depth + 1) for _ in range(rng.randint(0, 5)))
    keys = [lambda: f"k{rng.randint(0, 99)}é", lambda: rng.randint(-5, 5), lambda: 2.5, lambda: None, lambda: True]
    return {rng.choice(keys)(): _random_answer(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def test_the_bytes_are_the_json_modules_whatever_the_answer():
    rng = random.Random(15)
    fixed = [{}, [], (), 0, "", "é", None, 1.5e-7, float("nan"), [float("inf")], {"a": {}}, [[[[]]]],
             {"rows": [{"k": i, "v": i / 7} for i in range(500)]}, {1: "x", 2.5: "y", None: "z", False: "w"}]
    for answer in fixed + [_random_answer(rng) for _ in range(300)]:
        text, size = encoded_within(answer, 10**9, json_default)
        assert text == _whole(answer) == _incremental(answer)
        assert size == len(text.encode("utf-8"))


def test_the_size_is_in_utf8_bytes():
    # '{"a":"é€😀"}': 8 ASCII characters, é 2 bytes, € 3, 😀 4
    assert encoded_within({"a": "é€😀"}, 100) == ('{"a":"é€😀"}', 8 + 2 + 3 + 4)
    assert encoded_within([date(2025, 1, 2)], 100, json_default) == ('["2025-01-02"]', 14)


def test_an_answer_at_the_limit_fits_and_one_byte_more_does_not():
    answer = {"rows": ["x" * 10] * 50, "note": "é" * 7}  # 9 + 50*12 + 49 + 10 + 14 + 2 = 684 bytes
    assert encoded_within(answer, 684)[1] == 684 and encoded_within(answer, 684)[0] is not None
    text, seen = encoded_within(answer, 683)
    assert text is None and seen > 683


def _padded(rows: int, ascii_pad: int, two_byte_pad: int = 0) -> dict[str, Any]:
    return {"rows": ["x" * 97] * rows, "pad": "é" * two_byte_pad + "y" * ascii_pad}


# '{"rows":[' 9 + rows*(97+2) + (rows-1) commas + '],"pad":"' 9 + pad + '"}' 2 = 19 + 100*rows + pad bytes
@pytest.mark.parametrize(("ascii_pad", "two_byte_pad", "size", "kept"), [
    (MAX_ANSWER_BYTES - 1019, 0, MAX_ANSWER_BYTES, 10),  # exactly the cap: kept whole
    (MAX_ANSWER_BYTES - 1019 - 1, 0, MAX_ANSWER_BYTES - 1, 10),
    (MAX_ANSWER_BYTES - 1019 + 1, 0, MAX_ANSWER_BYTES + 1, 5),  # one byte over: the page size is halved
    (MAX_ANSWER_BYTES - 1019 - 2000, 1000, MAX_ANSWER_BYTES, 10),  # 1,000 characters fewer than bytes
    (MAX_ANSWER_BYTES - 1019 - 2000 + 1, 1000, MAX_ANSWER_BYTES + 1, 5),  # under the cap in characters, not bytes
])
def test_fit_decides_at_the_byte(ascii_pad, two_byte_pad, size, kept):
    assert len(_whole(_padded(10, ascii_pad, two_byte_pad)).encode()) == size  # the arithmetic above, checked
    builds: list[int] = []

    def build(rows: int) -> dict[str, Any]:
        builds.append(rows)
        return _padded(rows, ascii_pad, two_byte_pad)

    answer = fit(build, 10)
    assert len(answer["rows"]) == kept
    assert builds == ([10] if kept == 10 else [10, 5])


@pytest.mark.parametrize("answer", [
    {"a": {"b": [{"c": "x" * 100}] * 100_000}},  # the bulk two levels down, in small items
    [["x" * 10] * 300_000],  # one item holding everything
    {"notes": ["n"] * 10, "rows": [[i, "y" * 50] for i in range(100_000)]},  # small items, then the bulk
])
def test_a_huge_answer_stops_about_one_item_past_the_limit(answer):
    text, seen = encoded_within(answer, 25_000)
    assert text is None and 25_000 < seen < 25_200


def test_a_circular_answer_is_refused_as_json_refuses_it():
    loop: list[Any] = [1]
    loop.append({"again": loop})
    with pytest.raises(ValueError, match="Circular reference"):
        encoded_within(loop, 10**6)
