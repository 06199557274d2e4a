"""Dashboard fixtures: fixed dashboard settings, injected through dependency_overrides."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from service.dashboard.config import DashboardSettings, get_dashboard_settings

SECRET = "test-dashboard-secret-0123456789abcdef"


@pytest.fixture
def dashboard_settings() -> DashboardSettings:
    return DashboardSettings(secret_key=SECRET, dashboard_session_hours=8, public_dashboard=False)


@pytest.fixture(autouse=True)
def _override_settings(app: FastAPI, dashboard_settings: DashboardSettings) -> None:
    app.dependency_overrides[get_dashboard_settings] = lambda: dashboard_settings
