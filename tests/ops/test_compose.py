"""No Docker engine runs here, so the compose file is checked by reading it."""

from pathlib import Path
from typing import Any

import yaml

from service.cli import app as cli_app

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_services_and_dependencies() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "api"}
    assert services["db"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    api_deps = services["api"]["depends_on"]
    assert api_deps["db"]["condition"] == "service_healthy"
    assert api_deps["migrate"]["condition"] == "service_completed_successfully"
    for name in ("migrate", "api"):
        url = services[name]["environment"]["ENROLL_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://")
        assert "@db:5432/" in url


def parses(argv: list[str]) -> str:
    """Parse argv against the real CLI (unknown commands or options raise); return its path."""
    import typer.core
    import typer.main

    command: Any = typer.main.get_command(cli_app)
    args, path = list(argv), []
    while isinstance(command, typer.core.TyperGroup):
        name = args.pop(0)
        sub = command.get_command(command.context_class(command), name)
        assert sub is not None, f"no command {name!r}"
        path.append(name)
        command = sub
    command.make_context(path[-1], args)  # raises on unknown options or bad values
    return " ".join(path)


def test_commands_name_real_cli_commands() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"][:3] == ["python", "-m", "service"]
    assert parses(services["migrate"]["command"][3:]) == "db upgrade"
    assert parses(services["api"]["command"][3:]) == "serve"
