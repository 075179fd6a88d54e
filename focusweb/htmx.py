"""The one rule for partial responses: a template block for htmx swaps, the page otherwise."""

from __future__ import annotations

from flask import Response, make_response, render_template, url_for
from htmx_flask import request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """True for an htmx swap; false for boosted navigation and history restores, which need the page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """Render ``block`` of ``template`` for an htmx swap, the whole page otherwise."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    if block:
        response.vary.add("HX-Request")
    return response


def login_required_response() -> Response:
    """An expired session: htmx gets 401 + HX-Redirect (never a login page inside a fragment)."""
    login = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.htmx:
        response = make_response("", 401)
        response.headers["HX-Redirect"] = login
        return response
    from flask import redirect

    return redirect(login, 303)
