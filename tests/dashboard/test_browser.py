"""The dashboard in a real browser (headless Chromium) against a real server process.

Skipped with the reason when Chromium or chromedriver is missing; CI installs both.
Set ``DASHBOARD_SCREENSHOT=path.png`` to save a screenshot of the signed-in page.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from service.core.db import Database
from tests.dashboard.browser import (
    chromium,
    console_errors,
    full_page_screenshot,
    missing,
    navigate,
)
from tests.factories import auth, make_cohort, make_enrollment, make_key
from tests.live import live_server
from tests.reports.fixtures import build_world

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
]

SECRET = "browser-test-secret-0123456789abcdef"


async def _arrange(url: str) -> dict[str, str]:
    """Committed data: the report tests' world, a cohort starting soon, one key per role."""
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            world = await build_world(session)
            soon = await make_cohort(
                session, code="soon-isb", capacity=2, start_date=date.today() + timedelta(days=4)
            )
            await make_enrollment(session, soon)
            await make_enrollment(session, soon, status="waitlisted")
            tokens: dict[str, str] = {
                role: await make_key(session, role)
                for role in ("reporter", "staff", "admin", "client")
            }
            tokens["full_name"] = world.people["A"].full_name
            tokens["cnic"] = world.people["A"].cnic
            await session.commit()
            return tokens
    finally:
        await db.dispose()


def _sign_in(driver: Any, base: str, token: str) -> None:
    driver.get(f"{base}/dashboard/login")

    def submit() -> None:
        field = driver.find_element(By.NAME, "api_key")
        field.clear()
        field.send_keys(token)
        field.submit()

    navigate(driver, submit)


def _sign_out(driver: Any) -> None:
    navigate(driver, lambda: driver.find_element(By.CSS_SELECTOR, "form.logout button").click())


def _text(driver: Any, selector: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, selector).text).strip()


async def test_dashboard_in_chromium(fresh_database_url: str, tmp_path: Path) -> None:
    tokens = await _arrange(fresh_database_url)
    # Selenium and the server processes block: drive them from a worker thread.
    await asyncio.to_thread(_browse, fresh_database_url, tokens, tmp_path)


def _browse(fresh_database_url: str, tokens: dict[str, str], tmp_path: Path) -> None:
    env = {"ENROLL_SECRET_KEY": SECRET}
    with live_server(fresh_database_url, env=env) as base, chromium(tmp_path / "profile") as driver:
        progress = httpx.get(
            f"{base}/api/v1/reports/progress", headers=auth(tokens["reporter"]), timeout=10
        ).json()
        gender = httpx.get(
            f"{base}/api/v1/reports/breakdown?dimension=gender&metric=trainees",
            headers=auth(tokens["reporter"]),
            timeout=10,
        ).json()

        # Not signed in: the login form.
        driver.get(f"{base}/dashboard")
        assert driver.current_url == f"{base}/dashboard/login"

        # A reporter signs in and sees the API's numbers, with no console errors.
        _sign_in(driver, base, tokens["reporter"])
        assert driver.current_url == f"{base}/dashboard"
        assert console_errors(driver) == []
        for target in progress["targets"]:
            card = f"#target-{target['code']}"
            achieved = _text(driver, f"{card} .achieved").replace(",", "")
            assert int(achieved) == target["achieved"]
            assert _text(driver, f"{card} .percent") == str(target["percent"])
            assert _text(driver, f"{card} .daily-rate") == f"{target['daily_rate']:.2f}"
            assert int(_text(driver, f"{card} .goal").replace(",", "")) == target["goal"]
        rows = driver.find_elements(By.CSS_SELECTOR, "#breakdown-gender tbody tr")
        shown = {
            r.find_element(By.TAG_NAME, "th").text: r.find_element(By.TAG_NAME, "td").text
            for r in rows
        }
        assert shown == {row["key"]: str(row["count"]) for row in gender["rows"]}
        assert driver.find_elements(By.CSS_SELECTOR, "svg[role=img]")
        assert driver.find_elements(By.ID, "cohort-panel") == []
        assert "soon-isb" not in driver.page_source
        if os.environ.get("DASHBOARD_SCREENSHOT"):
            full_page_screenshot(driver, Path(os.environ["DASHBOARD_SCREENSHOT"]))

        # Signing out ends the session.
        _sign_out(driver)
        assert driver.current_url == f"{base}/dashboard/login"
        driver.get(f"{base}/dashboard")
        assert driver.current_url == f"{base}/dashboard/login"
        assert driver.get_cookies() == []

        # Staff see the cohort panel.
        _sign_in(driver, base, tokens["staff"])
        assert driver.current_url == f"{base}/dashboard"
        assert console_errors(driver) == []
        row = driver.find_element(By.CSS_SELECTOR, "#cohort-panel tr[data-cohort=soon-isb]")
        assert row.find_element(By.CSS_SELECTOR, ".seats-available").text == "1"
        assert row.find_element(By.CSS_SELECTOR, ".waitlist").text == "1"
        cookie = driver.get_cookie("enroll_dashboard")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        _sign_out(driver)
        assert driver.current_url == f"{base}/dashboard/login"

        # A client key is refused.
        _sign_in(driver, base, tokens["client"])
        assert driver.current_url == f"{base}/dashboard/login"
        assert "A client key cannot open the dashboard" in _text(driver, ".error")
        assert driver.get_cookies() == []

        # The public page is off by default.
        assert httpx.get(f"{base}/progress", timeout=10).status_code == 404

    env["ENROLL_PUBLIC_DASHBOARD"] = "true"
    with live_server(fresh_database_url, env=env) as base, chromium(tmp_path / "p2") as driver:
        driver.get(f"{base}/progress")
        assert console_errors(driver) == []
        achieved = _text(driver, "#target-zte-100k .achieved").replace(",", "")
        assert int(achieved) == progress["targets"][0]["achieved"]
        source = driver.page_source
        assert driver.find_elements(By.ID, "cohort-panel") == []
        for leak in ("soon-isb", "zte-isb-1", tokens["full_name"], tokens["cnic"], "Lahore"):
            assert leak not in source
        assert "&lt;5" in source or "<5" in _text(driver, "#breakdown-gender")
