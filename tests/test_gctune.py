"""The collector settings of the long-running modes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from console.core.gctune import tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_tune_gc_freezes_what_lives_and_collects_the_young_less_often(restored_gc: None) -> None:
    kept = [object() for _ in range(10)]
    tune_gc()
    assert gc.get_threshold() == (10000, 10, 10)
    assert gc.get_freeze_count() >= len(kept)
