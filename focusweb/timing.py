"""``Server-Timing: app;dur=<ms>`` on every response, so a benchmark reads the app's own time per request."""

from __future__ import annotations

from time import perf_counter

from flask import Flask, Response, g


def init_app(app: Flask) -> None:
    """Register first, so the timing covers the other hooks (CSRF, sign-in, compression) too."""

    def start_clock() -> None:
        g.request_started = perf_counter()

    def report_duration(response: Response) -> Response:
        # A hook that ran earlier may have refused the request before start_clock (e.g. CSRF): no timing then.
        started = g.get("request_started")
        if started is not None:
            response.headers["Server-Timing"] = f"app;dur={(perf_counter() - started) * 1000:.2f}"
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, start_clock)
    # after_request hooks run in reverse order of registration: the first registered runs last.
    app.after_request_funcs.setdefault(None, []).insert(0, report_duration)
