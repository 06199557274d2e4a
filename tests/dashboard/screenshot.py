"""Make ``docs/dashboard.png``: a demo database, a live server, headless Chromium.

.venv/bin/python -m tests.dashboard.screenshot docs/dashboard.png
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from selenium.webdriver.common.by import By

from service.core.db import Database
from tests.conftest import prepare_database
from tests.dashboard.browser import chromium, full_page_screenshot, navigate
from tests.factories import make_applicant, make_cohort, make_enrollment, make_key
from tests.live import live_server
from tests.reports.fixtures import add_target, complete

PROVINCES = ["punjab"] * 5 + ["sindh"] * 3 + ["kp"] * 2 + ["ict", "balochistan", "gb", "ajk"]
GENDERS = ["female"] * 9 + ["male"] * 10 + ["transgender"]


async def build(url: str) -> str:
    rng = random.Random(2026)
    await prepare_database(url)
    db = Database.from_url(url)
    today = date.today()
    try:
        async with db.sessionmaker() as session:
            await add_target(
                session,
                "alibaba-5k",
                metric="completions",
                goal=5000,
                programmes=["alibaba-ecommerce"],
                deadline=today + timedelta(days=400),
            )
            cohorts = [
                await make_cohort(
                    session,
                    code=f"zte-cloud-{i}",
                    capacity=400,
                    start_date=today - timedelta(days=150),
                )
                for i in range(3)
            ]
            alibaba = await make_cohort(
                session,
                code="ali-b2b-1",
                capacity=400,
                centre_code="online",
                programme_code="alibaba-ecommerce",
                start_date=today - timedelta(days=150),
            )
            for n in range(420):
                person = await make_applicant(
                    session,
                    province=rng.choice(PROVINCES),
                    gender=rng.choice(GENDERS),
                    date_of_birth=date(rng.randint(1990, 2007), rng.randint(1, 12), 1),
                )
                ago = int(140 * (1 - (n / 420) ** 0.8))
                cohort = alibaba if n % 7 == 0 else cohorts[n % 3]
                await complete(session, cohort, person, ago=ago, code=f"ZTE-DEMO-{n:05d}")
            for code, days, capacity, taken, waiting, centre in [
                ("zte-ai-7", 6, 40, 40, 12, "isb-gitc"),
                ("zte-5g-3", 13, 35, 21, 0, "isb-gitc"),
                ("zte-cyber-2", 24, 30, 8, 0, "online"),
                ("ali-export-4", 10, 60, 60, 5, "online"),
            ]:
                cohort = await make_cohort(
                    session,
                    code=code,
                    name=code.split("-")[1].upper() + " essentials",
                    track=code.split("-")[1],
                    capacity=capacity,
                    centre_code=centre,
                    programme_code="alibaba-ecommerce" if code.startswith("ali") else "zte-ict",
                    start_date=today + timedelta(days=days),
                )
                for _ in range(taken):
                    await make_enrollment(session, cohort)
                for _ in range(waiting):
                    await make_enrollment(session, cohort, status="waitlisted")
            token = await make_key(session, "staff")
            await session.commit()
            return token
    finally:
        await db.dispose()


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/demo.db"
        token = asyncio.run(build(url))
        with (
            live_server(url, env={"ENROLL_SECRET_KEY": "demo"}) as base,
            chromium(Path(tmp) / "profile") as driver,
        ):
            driver.get(f"{base}/dashboard/login")
            field = driver.find_element(By.NAME, "api_key")
            field.send_keys(token)
            navigate(driver, field.submit)
            full_page_screenshot(driver, out)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard.png"))
