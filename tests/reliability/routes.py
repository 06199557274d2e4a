"""Every (method, path) the app serves, read from the app itself."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI


def _walk(routes: Iterable[Any]) -> Iterator[tuple[str, str]]:
    for route in routes:
        if hasattr(route, "effective_candidates"):  # an included router (FastAPI >= 0.16x)
            yield from _walk(route.effective_candidates())
            continue
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None) or set()
        if isinstance(path, str):
            for method in methods:
                if method != "HEAD":
                    yield method, path


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    return set(_walk(app.routes))
