"""Tap targets on every screen are at least 44 px each way on a 360 px phone (SPEC.md, "phone screens").

A checkbox or radio button counts with its label, which takes the tap for it. The skip link is left
out: it only shows for the keyboard. Every page is also checked for sideways scrolling at that width.
"""

from __future__ import annotations

import pytest

from .conftest import sideways_overflow
from .pages import SCREENS

NARROW_PHONE = {"width": 360, "height": 740}
TAP = 44

TARGETS = "a[href], button, input:not([type=hidden]), select, textarea, summary"
SMALL_TARGETS = """([selector, tap]) => [...document.querySelectorAll(selector)]
  .filter(element => element.offsetParent !== null && !element.closest('.skip'))
  .map(element => {
    const labelled = ['checkbox', 'radio'].includes(element.type) && element.labels && element.labels.length;
    const box = (labelled ? element.labels[0] : element).getBoundingClientRect();
    const name = (element.innerText || element.getAttribute('aria-label') || element.name || '').trim();
    return {name: `${element.tagName.toLowerCase()} "${name.slice(0, 40)}"`, width: box.width, height: box.height};
  })
  .filter(target => target.width < tap - 0.5 || target.height < tap - 0.5)"""


@pytest.mark.parametrize("screen", SCREENS, ids=[screen.name for screen in SCREENS])
def test_every_tap_target_is_big_enough_on_a_narrow_phone(browser, live_server, states, ids, screen):
    context = browser.new_context(
        viewport=NARROW_PHONE,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
        storage_state=states[screen.user],
    )
    try:
        page = context.new_page()
        response = page.goto(screen.path.format(**ids))
        if screen.optional and response.status == 404:
            pytest.skip(f"{screen.path} is not built yet")
        assert response.status == screen.status
        small = page.evaluate(SMALL_TARGETS, [TARGETS, TAP])
        assert small == [], "\n".join(f"{t['name']}: {t['width']:.0f}×{t['height']:.0f} px" for t in small)
        assert sideways_overflow(page) == 0
    finally:
        context.close()
