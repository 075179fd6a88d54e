#!/usr/bin/env python3
"""Every screen (tests/browser/pages.py) at 360x740, 390x844 and 1280x800, light and dark: `make screenshots`.

Serves FocusWeb with the demo data from a temporary SQLite file and saves full-page PNGs as
docs/screenshots/<screen>-<width>x<height>-<scheme>.png. Git keeps only the few the README shows.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from focusweb import create_app  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.pages import SCREENS, sign_in_states, start_running_meeting  # noqa: E402
from tests.conftest import make_config  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZES = [(360, 740), (390, 844), (1280, 800)]
SCHEMES = ("light", "dark")


def serve_demo(folder: Path):
    """FocusWeb with the demo data on a free port, in a thread."""
    from flask_migrate import upgrade

    from focusweb.demo import seed
    from focusweb.extensions import db
    from focusweb.transactions import unit_of_work

    app = create_app(make_config(f"sqlite:///{folder / 'demo.db'}", TESTING=False))
    with app.app_context():
        upgrade()
        with unit_of_work():
            seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{server.server_port}"


def shoot(browser, base: str, state: dict, screen, path: str) -> int:
    """Save the screen at every size and scheme; 0 when it is not built yet."""
    saved = 0
    for width, height in SIZES:
        for scheme in SCHEMES:
            phone = width < 800
            context = browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=2 if phone else 1,
                is_mobile=phone,
                has_touch=phone,
                color_scheme=scheme,
                base_url=base,
                storage_state=state,
            )
            try:
                page = context.new_page()
                if page.goto(path).status == 404 and screen.optional:
                    return 0
                page.wait_for_load_state("networkidle")
                page.screenshot(path=OUT / f"{screen.name}-{width}x{height}-{scheme}.png", full_page=True)
                saved += 1
            finally:
                context.close()
    return saved


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    saved = 0
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        app, server, base = serve_demo(Path(tmp))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        states = sign_in_states(browser, base)
        ids = start_running_meeting(browser, base, states, app)
        for screen in SCREENS:
            count = shoot(browser, base, states[screen.user], screen, screen.path.format(**ids))
            if not count:
                print(f"{screen.name}: {screen.path} is not built yet, no screenshot")
            saved += count
        browser.close()
        server.shutdown()
    print(f"{saved} screenshots in {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
