from collections.abc import Iterator

import pytest

from service.places import cache


@pytest.fixture(autouse=True)
def _fresh_district_index() -> Iterator[None]:
    """Each test's rows are rolled back: no index read from them may outlive the test."""
    cache.forget()
    yield
    cache.forget()
