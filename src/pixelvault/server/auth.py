"""Who is calling: a session token from the Authorization header or a cookie.

Sessions never travel in URLs (OMERO's CVE-2020-7932). With
``server.public_user`` set, a request without any session reads as that user
(OMERO.web's public user); it can never write. Browsers get the token
in an HttpOnly cookie; for them every unsafe request must also echo the
``csrftoken`` cookie in the ``X-CSRFToken`` header (double submit), which a
page on another site cannot read.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from pixelvault.catalog import Actor
from pixelvault.errors import AuthenticationError, ForbiddenError
from pixelvault.services.access import auth
from pixelvault.services.vault import Vault

SESSION_COOKIE = "pixelvault_session"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,128}")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    actor: Actor
    session_id: int
    via_cookie: bool


def vault_of(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


def _check_csrf(request: Request) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not secrets.compare_digest(cookie, header):
        raise ForbiddenError(
            f"missing or wrong CSRF token: send the {CSRF_COOKIE} cookie's value in the "
            f"{CSRF_HEADER} header"
        )


def current_caller(request: Request) -> Caller:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("send the session token as `Authorization: Bearer TOKEN`")
        via_cookie = False
    else:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            public = vault_of(request).settings.public_user
            if public and request.method in SAFE_METHODS:
                return Caller(auth.public_actor(vault_of(request).catalog, public), 0, False)
            raise AuthenticationError(auth.NO_SESSION)
        via_cookie = True
        if request.method not in SAFE_METHODS:
            _check_csrf(request)
    vault = vault_of(request)
    actor, session_id = auth.authenticate(vault.catalog, vault.settings, token.strip())
    return Caller(actor, session_id, via_cookie)


def current_actor(caller: Annotated[Caller, Depends(current_caller)]) -> Actor:
    return caller.actor


CallerDep = Annotated[Caller, Depends(current_caller)]
ActorDep = Annotated[Actor, Depends(current_actor)]


def start_browser_session(request: Request, response: Response, token: str) -> None:
    """Hand a session to a browser: HttpOnly session cookie, readable CSRF cookie."""
    secure = request.url.scheme == "https"
    max_age = int(vault_of(request).settings.session_max_age)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True,
                        samesite="strict", secure=secure, path="/")
    # The token a client already read stays (OMERO's clients read it before logging in),
    # but it is set again to live as long as the new session: an older cookie would
    # expire first, and every write after that would be refused.
    token_now = request.cookies.get(CSRF_COOKIE, "")
    if not TOKEN_SHAPE.fullmatch(token_now):  # only a token this server could have made
        token_now = secrets.token_urlsafe(32)
    response.set_cookie(CSRF_COOKIE, token_now, max_age=max_age, httponly=False,
                        samesite="strict", secure=secure, path="/")


def check_csrf(request: Request) -> None:
    _check_csrf(request)
