"""Generate a Python client from the app's OpenAPI document with openapi-python-client.

What a partner developer does first: export ``/openapi.json`` and run the
generator. The generator must print no warning (a warning means a part of the
API the client cannot call) and the package must import.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from service.core.config import Settings
from service.main import create_app

PACKAGE = "enroll_client"


def document() -> dict[str, Any]:
    """The document the service serves at ``/openapi.json``."""
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    return app.openapi()


def generate(folder: Path, spec: dict[str, Any]) -> str:
    """Generate the client package into ``folder / PACKAGE``; returns the generator's output."""
    path = folder / "openapi.json"
    path.write_text(json.dumps(spec))
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(path),
            "--output-path",
            str(folder / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def load(folder: Path) -> tuple[ModuleType, dict[str, ModuleType]]:
    """Import the generated package; returns it and its operation modules by operationId."""
    sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(PACKAGE)
        api = importlib.import_module(f"{PACKAGE}.api")
        operations: dict[str, ModuleType] = {}
        for tag in pkgutil.iter_modules(api.__path__):
            tag_package = importlib.import_module(f"{PACKAGE}.api.{tag.name}")
            for module in pkgutil.iter_modules(tag_package.__path__):
                operations[module.name] = importlib.import_module(
                    f"{PACKAGE}.api.{tag.name}.{module.name}"
                )
        importlib.import_module(f"{PACKAGE}.models")
    finally:
        sys.path.remove(str(folder))
    return package, operations
