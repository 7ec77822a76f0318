"""The vector cache serves exactly what was stored, ages out the unused, survives damage."""

from __future__ import annotations

import numpy as np

from rag.embed.vector_cache import VectorCache


def test_vector_cache_round_trip_prune_and_damage(tmp_path):
    path = tmp_path / "v.sqlite"
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 8)).astype(np.float32)
    cache = VectorCache(path, 8, keep_runs=2)
    cache.put({"a": a, "b": b})
    got = cache.get(["a", "b", "missing"])
    assert set(got) == {"a", "b"} and np.array_equal(got["a"], a)
    cache.close()
    for _ in range(2):  # two later runs use only "a": "b" ages out
        cache = VectorCache(path, 8, keep_runs=2)
        cache.get(["a"])
        cache.prune()
        cache.close()
    cache = VectorCache(path, 8, keep_runs=2)
    assert set(cache.get(["a", "b"])) == {"a"}
    wider = VectorCache(path, 16)
    assert wider.get(["a"]) == {}  # a vector of another dimension is never served
    wider.close()
    cache.close()
    path.write_bytes(b"garbage, not sqlite" * 100)
    fresh = VectorCache(path, 8)
    assert len(fresh) == 0
    fresh.put({"c": a})
    assert set(fresh.get(["c"])) == {"c"}
    fresh.close()
