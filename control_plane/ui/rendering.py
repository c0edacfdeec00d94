"""Pages from the Jinja templates in ``templates/`` and the stylesheet in ``static/``, both shipped as
package data (pyproject's ``[tool.setuptools.package-data]``) and read through the package, never
through a path in the source tree.

Every template autoescapes. No template is ever given a secret value or the signed-in API key.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from .actions import Principal
from .auth import csrf_token, finish

env = Environment(
    loader=PackageLoader("control_plane.ui", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
STYLESHEET = (files("control_plane.ui") / "static" / "ui.css").read_text(encoding="utf-8")
# what base.html reads, for the pages that do not set it
BASE_CONTEXT: dict[str, Any] = {"error": None, "notice": None, "refresh": None, "refresh_url": None}


def render(
    request: Request, name: str, status_code: int = 200, principal: Principal | None = None, **context: Any
) -> HTMLResponse:
    who = ""
    if principal is not None:
        who = "admin" if principal.is_admin else f"key {principal.actor_id[:8]}"
    html = env.get_template(name).render(
        {**BASE_CONTEXT, **context}, csrf=csrf_token(request), signed_in=principal is not None, who=who
    )
    response = HTMLResponse(html, status_code=status_code)
    finish(request, response)
    return response


def redirect(request: Request, url: str) -> Response:
    return finish(request, RedirectResponse(url, status_code=303))


def error_page(status_code: int, title: str) -> HTMLResponse:
    """A page for an error raised before a page could handle it (no cookie is read or set)."""
    html = env.get_template("error.html").render(BASE_CONTEXT, title=title, csrf="", signed_in=False, who="")
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
