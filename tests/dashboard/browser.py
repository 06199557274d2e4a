"""Headless Chromium driven by Selenium, with the system chromedriver (no downloads)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
]


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(path)):
            return (
                f"{path} not found: install Debian's chromium and chromium-driver "
                "(.ci/run does) to run the browser tests"
            )
    return None


@contextmanager
def chromium(user_data_dir: Path) -> Iterator[Any]:
    """A fresh headless Chromium with an empty profile, collecting console logs."""
    # Never let Selenium Manager look for (or download) a browser or a driver.
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def navigate(driver: Any, action: Any) -> None:
    """Run a click or form submit and wait until the next page has loaded.

    ``action`` should find its element itself (a lambda), so that it can be run
    again when Chromium reports the element's node as gone from the document:
    seen once in CI, right after a page load, before any click had happened.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    for attempt in range(3):
        old = driver.find_element(By.TAG_NAME, "html")
        try:
            action()
            break
        except (StaleElementReferenceException, WebDriverException) as exc:
            stale = isinstance(exc, StaleElementReferenceException) or (
                "does not belong to the document" in str(exc)
            )
            if not stale or attempt == 2:
                raise
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 20).until(
        lambda d: (
            d.execute_cdp_cmd(
                "Runtime.evaluate", {"expression": "document.readyState", "returnByValue": True}
            )["result"]["value"]
            == "complete"
        )
    )


def console_errors(driver: Any) -> list[dict[str, Any]]:
    """Console entries at SEVERE since the last call (reading drains the log)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def full_page_screenshot(driver: Any, path: Path) -> None:
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    height = int(metrics["cssContentSize"]["height"])
    driver.set_window_size(1280, height + 140)
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1600)
