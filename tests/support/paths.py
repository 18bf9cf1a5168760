"""Where the repository and the test fixtures are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root (holds ``console/``, ``widgets/`` and ``tests/``)."""

FIXTURES = ROOT / "tests" / "fixtures"
"""Captured logs, status pages and config trees."""
