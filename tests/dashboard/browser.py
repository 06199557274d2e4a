"""Headless Chromium driven by Selenium, with the system chromedriver (no downloads)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def _evaluate(driver: Any, expression: str) -> Any:
    """``expression``'s value in the current document (CDP, no element handles)."""
    result = driver.execute_cdp_cmd(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}
    )
    return result["result"].get("value")


def navigate(driver: Any, action: Any) -> None:
    """Run a click or form submit and wait until the next page has loaded.

    The wait is on the new page itself: the current document is marked with a
    random token, and the wait ends once the document in the tab no longer
    carries it (a new page, even at the same URL) and has finished loading.
    Nothing is asked of the old page's element nodes, whose handles Chromium may
    answer with "Node with given id does not belong to the document" while it
    swaps documents (``staleness_of`` does not take that for stale; CI flaked so).

    ``action`` should find its element itself (a lambda), so that it can be run
    again when Chromium reports the element's node as gone from the document:
    seen once in CI, right after a page load, before any click had happened.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    token = secrets.token_hex(8)
    _evaluate(driver, f"window.__enrollPage = {token!r}")
    for attempt in range(3):
        try:
            action()
            break
        except (StaleElementReferenceException, WebDriverException) as exc:
            stale = isinstance(exc, StaleElementReferenceException) or (
                "does not belong to the document" in str(exc)
            )
            if not stale or attempt == 2:
                raise

    def arrived(d: Any) -> bool:
        try:
            return bool(
                _evaluate(
                    d, f"window.__enrollPage !== {token!r} && document.readyState === 'complete'"
                )
            )
        except WebDriverException:
            return False  # the document is being swapped; ask again

    WebDriverWait(driver, 20).until(arrived)


def console_errors(driver: Any) -> list[dict[str, Any]]:
    """Console entries at SEVERE since the last call (reading drains the log)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def full_page_screenshot(driver: Any, path: Path) -> None:
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    height = int(metrics["cssContentSize"]["height"])
    driver.set_window_size(1280, height + 140)
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1600)
