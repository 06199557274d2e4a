"""A reporting job: pull new completions from the feed and keep per-province totals.

Run it from cron as often as you like; each run fetches only what is new since
the last one (the feed cursor is kept in a small state file, written
atomically after every page) and prints completions minus revocations per
province. Transient failures (connection errors, 5xx) are retried with
exponential backoff; anything else stops the run without touching the state.

    python examples/reporting_job.py --base-url http://127.0.0.1:8000 --token "$REPORTER_TOKEN"

The token may also come from ENROLL_REPORT_TOKEN, the URL from ENROLL_REPORT_URL.
A reporter key sees masked CNICs and per-key pseudonyms for ids, which is all
this job needs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

FEED = "/api/v1/reports/completions"
RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class JobError(Exception):
    """A failure that retrying will not fix (bad token, bad cursor, ...)."""


def load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"cursor": None, "totals": {}}
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    os.replace(tmp, path)  # atomic: a crash leaves the old state or the new one


def get_with_retries(
    client: httpx.Client, params: dict[str, Any], *, attempts: int, base_delay: float
) -> dict[str, Any]:
    delay = base_delay
    for attempt in range(1, attempts + 1):
        try:
            response = client.get(FEED, params=params)
        except httpx.TransportError as exc:
            problem = f"connection error: {type(exc).__name__}"
        else:
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
            if response.status_code not in RETRYABLE_STATUS:
                raise JobError(f"feed answered {response.status_code}: {response.text[:200]}")
            problem = f"feed answered {response.status_code}"
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                delay = max(delay, float(retry_after))
        if attempt == attempts:
            raise JobError(f"giving up after {attempts} attempts ({problem})")
        print(f"{problem}; retrying in {delay:.1f}s", file=sys.stderr)
        time.sleep(delay)
        delay = min(delay * 2, 30.0)
    raise AssertionError("unreachable")


def run(args: argparse.Namespace) -> dict[str, Any]:
    state_path = Path(args.state)
    state = load_state(state_path)
    totals: dict[str, int] = state["totals"]
    new_items = 0
    headers = {"Authorization": f"Bearer {args.token}"}
    with httpx.Client(base_url=args.base_url, headers=headers, timeout=args.timeout) as client:
        while True:
            params: dict[str, Any] = {"limit": args.page_size}
            if state["cursor"]:
                params["after"] = state["cursor"]
            page = get_with_retries(client, params, attempts=args.attempts, base_delay=args.backoff)
            for item in page["items"]:
                delta = 1 if item["kind"] == "completion" else -1
                province = item["province"]
                totals[province] = totals.get(province, 0) + delta
            new_items += len(page["items"])
            state["cursor"] = page["next_cursor"]
            save_state(state_path, state)
            if len(page["items"]) < args.page_size:
                break
    return {"new_items": new_items, "totals": dict(sorted(totals.items()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url", default=os.environ.get("ENROLL_REPORT_URL", "http://127.0.0.1:8000")
    )
    parser.add_argument("--token", default=os.environ.get("ENROLL_REPORT_TOKEN"))
    parser.add_argument("--state", default="reporting_job_state.json", help="Cursor file.")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--attempts", type=int, default=6, help="Tries per request.")
    parser.add_argument("--backoff", type=float, default=0.5, help="First retry delay (s).")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is required: --token or ENROLL_REPORT_TOKEN")
    try:
        result = run(args)
    except JobError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['new_items']} new feed items")
    print(f"{'province':<14}{'completions':>12}")
    for province, total in result["totals"].items():
        print(f"{province:<14}{total:>12}")
    print(f"{'total':<14}{sum(result['totals'].values()):>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
