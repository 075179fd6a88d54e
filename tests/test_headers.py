"""Security headers and clean pages, on every GET route of the app (from the authorization table).

Every page: a CSP without unsafe-inline/unsafe-eval scripts and with frame-ancestors 'none',
nosniff, a Referrer-Policy; HSTS only in production. Every rendered HTML page (and its htmx
fragment): no inline <script>, no <style> element or style= attribute, no inline event handler
or hx-on (all blocked by the CSP, so they would silently not work), no URL to another host.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.conftest import multipart
from tests.test_authorization import ROUTES, Visitors, best_role

OTHER_HOST = re.compile(r"(?i)(?:https?:)?//([a-z0-9.-]+(?::\d+)?)")
OWN_HOSTS = {"localhost"}


class PageScan(HTMLParser):
    """Collects what a strict CSP page must not contain."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script":
            self._in_script = "src" not in names
            if "src" not in names:
                self.problems.append("an inline <script>")
        if tag == "style":
            self.problems.append("a <style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"a style= attribute on <{tag}>")
            if name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"{name} on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"an inline handler {name}= on <{tag}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"a javascript: URL in {name}= on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def page_problems(html: str) -> list[str]:
    scan = PageScan()
    scan.feed(html)
    scan.close()
    hosts = {host.lower().split(":")[0] for host in OTHER_HOST.findall(html)} - OWN_HOSTS
    return scan.problems + [f"a URL to another host: {host}" for host in sorted(hosts)]


def header_problems(response, production: bool = False) -> list[str]:
    headers = response.headers
    csp = {
        part.strip().split(" ", 1)[0]: part.strip()
        for part in headers.get("Content-Security-Policy", "").split(";")
        if part.strip()
    }
    problems = []
    script = csp.get("script-src", csp.get("default-src", ""))
    if not script or "'unsafe-inline'" in script or "'unsafe-eval'" in script:
        problems.append(f"scripts not locked down: {script!r}")
    if "'unsafe-inline'" in csp.get("style-src", ""):
        problems.append("style-src allows unsafe-inline")
    if csp.get("frame-ancestors") != "frame-ancestors 'none'":
        problems.append("no frame-ancestors 'none'")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    if production != ("Strict-Transport-Security" in headers):
        problems.append("HSTS " + ("missing in production" if production else "sent outside production"))
    return problems


def test_every_get_route_has_the_headers_and_a_clean_page(app, tally):
    visitors = Visitors(app)
    problems = []
    for endpoint, cases in ROUTES.items():
        for case in cases:
            role = best_role(case)
            if case.method != "GET" or role is None:
                continue
            for headers in ({}, {"HX-Request": "true"}):
                with app.test_request_context():
                    response = visitors.send(endpoint, case, role, headers=headers)
                    url = case.url(visitors.world, endpoint)
                where = f"{url} as {role}" + (" (htmx)" if headers else "")
                problems += [f"{where}: {problem}" for problem in header_problems(response)]
                if response.mimetype == "text/html":
                    problems += [f"{where}: {problem}" for problem in page_problems(response.get_data(as_text=True))]
                tally["headers: pages checked"] += 1
    assert not problems, "\n".join(problems)


def test_error_and_form_error_pages_are_clean_too(app, client, auth, factory):
    seller = factory.user("seller")
    auth.login(seller)
    responses = [
        client.get("/accounts/999999/edit"),
        client.post("/accounts/new", data={"name": "", "kind": "nope"}),
        client.post(
            "/accounts/import",
            **multipart({"csrf_token": client.csrf_token()}, {"file": (b"x" * (3 * 1024 * 1024), "big.csv")}),
            csrf=False,
        ),
        client.post("/accounts/new", data={"name": "x"}, csrf=False),
    ]
    assert [response.status_code for response in responses] == [404, 422, 413, 400]
    for response in responses:
        assert header_problems(response) == []
        assert page_problems(response.get_data(as_text=True)) == []


def test_the_page_scan_finds_what_it_looks_for():
    html = (
        '<script>alert(1)</script><script src="/static/x.js"></script><p style="color:red" onclick="x()">'
        '<a hx-on:click="x" href="https://cdn.example.com/x.js">x</a><img src="//evil.test/i.png">'
        '<a href="http://localhost/ok">ok</a><style>p{}</style><a href="javascript:alert(1)">j</a>'
    )
    assert sorted(page_problems(html)) == sorted(
        [
            "an inline <script>",
            "a style= attribute on <p>",
            "an inline handler onclick= on <p>",
            "hx-on:click on <a>",
            "a <style> element",
            "a javascript: URL in href= on <a>",
            "a URL to another host: cdn.example.com",
            "a URL to another host: evil.test",
        ]
    )


def test_hsts_only_in_production(app, client, production_app):
    assert header_problems(client.get("/login")) == []
    secure = production_app.test_client().get("/login", base_url="https://localhost")
    assert header_problems(secure, production=True) == []
    assert "max-age=31536000" in secure.headers["Strict-Transport-Security"]
