"""What each page costs on first load: every byte transferred, from the app's own host only.

Recorded through Chromium's DevTools protocol with the cache off (a first visit). Text over 1 KB must
be compressed; static assets carry a content hash (?v=) and a one-year Cache-Control. The meeting page
(before the start, a running card, the summary) must stay within SPEC.md's 60 KB.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .conftest import PHONE
from .pages import SCREENS

# SPEC.md: the meeting page within 60 KB on first load; held for each of its states (bytes transferred,
# compressed, headers included).
MEETING_BUDGET = 60 * 1024
BUDGETS = {"meeting-prepare": MEETING_BUDGET, "meeting": MEETING_BUDGET, "meeting-summary": MEETING_BUDGET}
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def load_recording_network(browser, base_url: str, state: dict, path: str) -> tuple[int, list[dict]]:
    """Open ``path`` with the cache off; return its status and every response with its bytes."""
    context = browser.new_context(viewport=PHONE, base_url=base_url, storage_state=state)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    seen: dict[str, dict] = {}

    def received(event):
        response = event["response"]
        headers = {name.lower(): value for name, value in response["headers"].items()}
        seen[event["requestId"]] = {"url": response["url"], "type": response["mimeType"], "headers": headers, "body": 0}

    def data(event):
        if event["requestId"] in seen:
            seen[event["requestId"]]["body"] += event["dataLength"]

    def finished(event):
        if event["requestId"] in seen:
            seen[event["requestId"]]["transferred"] = event["encodedDataLength"]

    cdp.on("Network.responseReceived", received)
    cdp.on("Network.dataReceived", data)
    cdp.on("Network.loadingFinished", finished)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    try:
        response = page.goto(path)
        page.wait_for_load_state("networkidle")
        status = response.status
    finally:
        context.close()
    return status, [entry for entry in seen.values() if "transferred" in entry]


def test_every_meeting_state_is_measured_against_the_budget():
    measured = {screen.name for screen in SCREENS if not screen.optional}
    assert set(BUDGETS) <= measured, f"budgeted screens missing from SCREENS: {set(BUDGETS) - measured}"


@pytest.mark.parametrize("screen", SCREENS, ids=[screen.name for screen in SCREENS])
def test_page_weight_and_hosts(browser, live_server, states, ids, screen):
    status, responses = load_recording_network(browser, live_server.url, states[screen.user], screen.path.format(**ids))
    if screen.optional and status == 404:
        pytest.skip(f"{screen.path} is not built yet")
    assert status == screen.status
    own_host = urlsplit(live_server.url).netloc
    total = sum(entry["transferred"] for entry in responses)
    print(f"\n{screen.name}: {total / 1024:.1f} KB transferred in {len(responses)} responses")
    for entry in responses:
        url = urlsplit(entry["url"])
        print(f"  {entry['transferred']:>7} B  {entry['headers'].get('content-encoding', '-'):<4} {url.path}")
        assert url.scheme == "data" or url.netloc == own_host, f"request to another host: {entry['url']}"
        if entry["type"].startswith(TEXT_TYPES) and entry["body"] > 1024:
            assert entry["headers"].get("content-encoding") in {"gzip", "br", "zstd", "deflate"}, (
                f"{url.path} ({entry['body']} bytes of {entry['type']}) is sent uncompressed"
            )
        if url.path.startswith("/static/"):
            assert "v=" in url.query, f"{url.path} has no content hash in its URL"
            assert "max-age=31536000" in entry["headers"].get("cache-control", ""), f"{url.path} is not cached a year"
    budget = BUDGETS.get(screen.name)
    if budget is not None:
        assert total <= budget, f"{screen.name}: {total} bytes transferred, budget {budget}"
