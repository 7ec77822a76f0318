"""One server of the shipped corpus (UI mounted in the API app) shared by the API tests.

Beside the default collection it serves ``lighthouses``, a second collection with one document
the shipped corpus knows nothing about, so a test can tell which collection answered.
"""

from __future__ import annotations

import httpx
import pytest

from rag import QA, Settings
from tests.api.apiserver import indexed, serve_app

KABUL = "When did the Taliban seize Kabul?"
LIGHTHOUSE = "What colour was the zeta lighthouse painted?"
LIGHTHOUSE_DOC = (
    "# Zeta lighthouse\n\nThe zeta lighthouse on the northern cape was painted cobalt blue in "
    "1911 by its keeper, Ilse Marrow, who kept its lamp for thirty years.\n"
)


@pytest.fixture(scope="session")
def api(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("api")
    settings, qa = indexed(root, embedder, collections_dir=root / "collections")
    other = settings.for_collection("lighthouses")
    other.corpus_dir.mkdir(parents=True)
    (other.corpus_dir / "zeta.md").write_text(LIGHTHOUSE_DOC, encoding="utf-8")
    with QA(other, embedder=embedder) as lighthouses:
        lighthouses.ingest()
    with serve_app(settings, qa) as running:
        yield running
    qa.close()


@pytest.fixture(scope="module")
def http(api):
    """A client of the shared server, one per test module."""
    with httpx.Client(base_url=api.url, timeout=120) as client:
        yield client


def settings_like(base: Settings, **overrides: object) -> Settings:
    """``base`` with some fields changed (the folders stay the same)."""
    return Settings(**{**base.model_dump(exclude_unset=True), **overrides})
