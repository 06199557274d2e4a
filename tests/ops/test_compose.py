"""No Docker engine runs here, so the compose file is checked by reading it."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.cli import app as cli_app

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_services_and_dependencies() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "api", "proxy"}
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


def test_secrets_come_from_an_env_file_not_the_compose_file() -> None:
    services = compose()["services"]
    text = (ROOT / "docker-compose.yml").read_text()
    assert "PASSWORD:" not in text
    assert "enroll:enroll@" not in text
    for name in ("db", "migrate", "api"):
        assert services[name]["env_file"] == "deploy/enroll.env"
        url = services[name].get("environment", {}).get("ENROLL_DATABASE_URL", "")
        assert ":" not in url.removeprefix("postgresql+asyncpg://").split("@")[0]
    example = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy/enroll.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(example) >= {"POSTGRES_PASSWORD", "ENROLL_DATABASE_PASSWORD", "ENROLL_SECRET_KEY"}
    assert len(example["ENROLL_SECRET_KEY"].encode()) >= 32
    assert "deploy/enroll.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_password_setting_goes_into_the_database_url() -> None:
    from service.core.config import Settings

    settings = Settings(
        database_url="postgresql+asyncpg://enroll@db:5432/enroll",
        reporting_database_url="postgresql+asyncpg://enroll@replica:5432/enroll",
        database_password="p@ss:w/rd",  # type: ignore[arg-type]
    )
    assert settings.database_url == "postgresql+asyncpg://enroll:p%40ss%3Aw%2Frd@db:5432/enroll"
    assert settings.reporting_database_url is not None
    assert "p%40ss%3Aw%2Frd@replica" in settings.reporting_database_url
    sqlite = Settings(database_url="sqlite+aiosqlite:///x.db", database_password="p")  # type: ignore[arg-type]
    assert sqlite.database_url == "sqlite+aiosqlite:///x.db"


def test_only_the_proxy_is_published() -> None:
    services = compose()["services"]
    assert "ports" not in services["api"]
    assert services["api"]["expose"] == ["8000"]
    assert services["api"]["environment"]["ENROLL_FORWARDED_ALLOW_IPS"] == "*"
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["80:80", "443:443"]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]


def _nginx_test(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    # "api" resolves only on the compose network: point it at loopback for the check.
    path = tmp_path / "nginx.conf"
    path.write_text(config.replace("server api:8000;", "server 127.0.0.1:8000;"))
    return subprocess.run(
        ["nginx", "-t", "-c", str(path)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx not installed (apt-get install nginx-light)"
)
def test_nginx_config_is_valid_plain_and_with_tls(tmp_path: Path) -> None:
    config = (ROOT / "deploy/nginx.conf").read_text()
    plain = _nginx_test(tmp_path, config)
    assert plain.returncode == 0, plain.stderr
    # The TLS server, uncommented, with a throwaway certificate where compose mounts one.
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(tls_dir / "privkey.pem"),
            "-out",
            str(tls_dir / "fullchain.pem"),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    lines = config.split("\n")
    start = lines.index("    # server {")
    enabled = [
        line.replace("    # ", "    ", 1).replace("    #", "", 1)
        if i >= start and line.strip().startswith("#")
        else line
        for i, line in enumerate(lines)
    ]
    tls = "\n".join(enabled).replace("/etc/nginx/tls/", f"{tls_dir}/")
    assert "listen 443 ssl;" in tls
    checked = _nginx_test(tmp_path, tls)
    assert checked.returncode == 0, checked.stderr


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
