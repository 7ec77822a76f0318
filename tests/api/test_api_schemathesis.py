"""A property-based run of schemathesis against the REST and OpenAI routes: no 5xx, ever.

Schemathesis reads /openapi.json and generates requests for each operation, valid ones
(positive) and ones that break the schema (negative: wrong types, missing fields); every
response must be a success or a documented 4xx, never a server error, and must match the
schema. The server is a private one (the run uploads, deletes and ingests), over a copy of the
shipped corpus with the real models. Hypothesis drives the generation directly (schemathesis's
pytest plugin does not run on this pytest); ``derandomize`` makes every run send the same
requests, so a failure reproduces.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.apiserver import indexed, serve_app

#: generated requests per operation and mode: each field's edge cases, in bounded time
EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, embedder):
    settings, qa = indexed(tmp_path_factory.mktemp("fuzz"), embedder)
    with serve_app(settings, qa, ui=False) as running:
        yield running
    qa.close()


def operations(url: str) -> list:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=60)
    return [
        result.ok() for result in schema.include(path_regex=r"^/(api/)?v1/").get_all_operations()
    ]


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error(fuzzed, mode):
    found = operations(fuzzed.url)
    assert len(found) >= 12, [op.label for op in found]
    sent: list[int] = []
    nothing_to_break = []
    for operation in found:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            response = case.call(base_url=fuzzed.url, timeout=120)
            sent.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:  # negative mode: no parameter whose schema can be broken
            assert mode is GenerationMode.NEGATIVE, operation.label
            nothing_to_break.append(operation.label)
    statuses = Counter(sent)
    print(f"{mode}: {len(sent)} requests, statuses {dict(sorted(statuses.items()))}")
    assert len(nothing_to_break) <= 3, nothing_to_break
    assert len(sent) >= 5 * len(found) and max(statuses) < 500
