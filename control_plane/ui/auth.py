"""Sign-in, the key cookie and CSRF for the web UI.

- Sign in with an API key: it is kept in an HttpOnly, SameSite=Strict cookie (Secure over https),
  scoped to /ui, and never rendered into a page. Every page acts as that key's principal, in its tenant.
- Every POST form carries a CSRF token (double submit: a random cookie and a hidden field that must
  match); a POST without it is refused with 403.
- Every response says no-store, DENY framing and a same-origin referrer.
"""

from __future__ import annotations

import hmac
import secrets as pysecrets
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response

from .actions import Principal, SessionDep, SettingsDep, principal_for_key

KEY_COOKIE = "lgp_ui_key"
CSRF_COOKIE = "lgp_ui_csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 256 * 1024
COOKIE_PATH = "/ui"


class SignInRequired(Exception):
    """No valid key cookie: the page redirects to the sign-in form."""


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser: its cookie's, or a new one that ``finish`` sets."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and 20 <= len(token) <= 100:
        return token
    new: str = request.state.__dict__.setdefault("new_csrf", pysecrets.token_urlsafe(32))
    return new


def finish(request: Request, response: Response) -> Response:
    """Every UI response: a new CSRF cookie when one was made, and the headers that keep pages private."""
    new = request.state.__dict__.get("new_csrf")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=secure(request), path=COOKIE_PATH
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


async def form_data(request: Request) -> dict[str, str]:
    """The urlencoded form, CSRF-checked: 403 without a token matching the cookie."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="the form is too large")
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100))
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(status_code=400, detail="the form could not be read") from None
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = fields.pop(CSRF_FIELD, "")
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise HTTPException(status_code=403, detail="csrf")
    return fields


FormDep = Annotated[dict[str, str], Depends(form_data)]


def ui_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    key = request.cookies.get(KEY_COOKIE)
    principal = principal_for_key(session, settings, key) if key else None
    if principal is None:
        raise SignInRequired()
    return principal


UiPrincipal = Annotated[Principal, Depends(ui_principal)]


def sign_in(request: Request, response: Response, key: str) -> Response:
    response.set_cookie(
        KEY_COOKIE, key, httponly=True, samesite="strict", secure=secure(request), path=COOKIE_PATH
    )
    return response


def sign_out(request: Request, response: Response) -> Response:
    response.delete_cookie(
        KEY_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure(request)
    )
    return response
