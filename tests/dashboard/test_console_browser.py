"""The roster page in headless Chromium against a real server: sign in, follow the
dashboard's attendance panel, mark today's session with radio buttons and one submit.

The server reads the system clock, so the sessions are dated around today (UTC).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from service.core.db import Database
from service.models import AttendanceSession
from tests.completions.helpers import enrolled
from tests.dashboard.browser import chromium, console_errors, missing, navigate
from tests.dashboard.test_browser import SECRET, _sign_in
from tests.factories import auth, make_cohort, make_key
from tests.live import live_server

PANEL_ROW = "#attendance-panel tr[data-attendance-cohort=att-isb]"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
]


async def _arrange(url: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    db = Database.from_url(url)
    try:
        async with db.sessionmaker() as session:
            cohort = await make_cohort(
                session,
                code="att-isb",
                name="Cloud basics",
                status="in_progress",
                start_date=today - timedelta(days=5),
            )
            ayesha = await enrolled(session, cohort, full_name="Ayesha Khan")
            bilal = await enrolled(session, cohort, full_name="Bilal Ahmed")
            days = [today - timedelta(days=2), today - timedelta(days=1), today]
            session.add_all([AttendanceSession(cohort_id=cohort.id, date=d) for d in days])
            facts = {
                "staff": await make_key(session, "staff", centres=["isb-gitc"]),
                "ayesha": ayesha.id,
                "bilal": bilal.id,
            }
            await session.commit()
            return facts
    finally:
        await db.dispose()


async def test_marking_a_session_in_chromium(fresh_database_url: str, tmp_path: Path) -> None:
    facts = await _arrange(fresh_database_url)
    await asyncio.to_thread(_browse, fresh_database_url, facts, tmp_path)


def _browse(url: str, facts: dict[str, Any], tmp_path: Path) -> None:
    with (
        live_server(url, env={"ENROLL_SECRET_KEY": SECRET}) as base,
        chromium(tmp_path / "profile") as driver,
    ):
        _sign_in(driver, base, facts["staff"])
        row = driver.find_element(By.CSS_SELECTOR, PANEL_ROW)
        assert row.find_element(By.CSS_SELECTOR, ".today").text == "not marked"
        navigate(driver, lambda: driver.find_element(By.LINK_TEXT, "Cloud basics").click())
        marks = driver.find_elements(By.LINK_TEXT, "Mark")
        assert len(marks) == 3
        navigate(driver, lambda: driver.find_elements(By.LINK_TEXT, "Mark")[-1].click())
        assert console_errors(driver) == []

        def choose(enrollment: str, status: str) -> None:
            selector = f"input[name='mark:{enrollment}'][value={status}]"
            driver.find_element(By.CSS_SELECTOR, selector).click()

        choose(facts["ayesha"], "present")
        choose(facts["bilal"], "late")
        navigate(
            driver, lambda: driver.find_element(By.CSS_SELECTOR, "form.roster-form button").click()
        )
        assert driver.find_element(By.ID, "saved").text == "Saved 2 marks."
        checked = driver.find_elements(By.CSS_SELECTOR, "input[type=radio]:checked")
        assert sorted(e.get_attribute("value") for e in checked) == ["late", "present"]
        assert console_errors(driver) == []

        # Changing one trainee's mark re-posts the form with the other's default kept.
        choose(facts["ayesha"], "absent")
        navigate(
            driver, lambda: driver.find_element(By.CSS_SELECTOR, "form.roster-form button").click()
        )
        assert driver.find_element(By.ID, "saved").text == "Saved 2 marks."
        headers = auth(facts["staff"])
        for enrollment, percent in ((facts["ayesha"], 0.0), (facts["bilal"], 33.33)):
            body = httpx.get(
                f"{base}/api/v1/enrollments/{enrollment}/attendance", headers=headers, timeout=10
            ).json()
            assert body["percent"] == percent
            assert body["sessions"][-1]["status"] == ("absent" if percent == 0 else "late")

        driver.get(f"{base}/dashboard")
        row = driver.find_element(By.CSS_SELECTOR, PANEL_ROW)
        assert row.find_element(By.CSS_SELECTOR, ".today").text == "marked"
        assert row.find_element(By.CSS_SELECTOR, ".at-risk").text == "2"
