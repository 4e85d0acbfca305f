"""Log in, log out, and who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pixelvault.catalog import Actor
from pixelvault.errors import AuthenticationError
from pixelvault.server.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ActorDep,
    CallerDep,
    start_browser_session,
    vault_of,
)
from pixelvault.server.jsonbody import JsonBodyRoute
from pixelvault.server.params import BodyId, PathId
from pixelvault.services.access import auth, principals

router = APIRouter(prefix="/api/v1", tags=["sessions"], route_class=JsonBodyRoute)


class Credentials(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=255)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class Me(BaseModel):
    user_id: int
    username: str
    is_admin: bool
    group_id: int
    group_ids: list[int]
    owned_group_ids: list[int]
    public: bool = False  # a visitor without a session, reading as server.public_user


class LoginAnswer(Me):
    token: str
    expires_at: datetime


def me(actor: Actor) -> Me:
    return Me(user_id=actor.user_id, username=actor.username, is_admin=actor.is_admin,
              group_id=actor.group_id, group_ids=sorted(actor.group_ids),
              owned_group_ids=sorted(actor.owned_group_ids))


@router.post("/login", response_model=LoginAnswer)
async def login(credentials: Credentials, request: Request, response: Response) -> LoginAnswer:
    """Returns a session token for `Authorization: Bearer`, and sets cookies for browsers."""
    vault = vault_of(request)
    result = await run_in_threadpool(
        auth.login, vault.catalog, vault.settings, credentials.username, credentials.password,
        client=request.headers.get("user-agent", ""), limiter=request.app.state.limiter,
        address=request.client.host if request.client else "")
    start_browser_session(request, response, result.token)
    return LoginAnswer(token=result.token, expires_at=result.expires_at,
                       **me(result.actor).model_dump())


@router.post("/logout", status_code=204)
def logout(caller: CallerDep, request: Request, response: Response) -> None:
    auth.logout(vault_of(request).catalog, caller.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/whoami", response_model=Me)
def whoami(caller: CallerDep) -> Me:
    return me(caller.actor).model_copy(update={"public": caller.session_id == 0})


class PasswordChange(BaseModel):
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]
    old_password: Annotated[str | None, Field(max_length=1024)] = None


@router.put("/users/{user_id}/password", status_code=204, tags=["users"])
def change_password(user_id: PathId, body: PasswordChange, actor: ActorDep,
                    request: Request) -> None:
    """Yourself (with the old password) or an administrator; ends the user's sessions."""
    principals.set_password(vault_of(request).catalog, actor, user_id, body.new_password,
                            body.old_password)


class SessionOut(BaseModel):
    id: int
    user_id: int
    username: str
    group_id: int
    client: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


class GroupChoice(BaseModel):
    group_id: BodyId


@router.get("/sessions", response_model=list[SessionOut])
def list_sessions(caller: CallerDep, request: Request) -> list[SessionOut]:
    """Your open sessions (administrators: everyone's)."""
    if caller.session_id == 0:  # a visitor reading as the public user has no session
        raise AuthenticationError(auth.NO_SESSION)
    return [SessionOut(**s.__dict__, current=s.id == caller.session_id)
            for s in auth.list_sessions(vault_of(request).catalog, caller.actor)]


@router.delete("/sessions/{session_id}", status_code=204)
def end_session(session_id: PathId, caller: CallerDep, request: Request) -> None:
    auth.end_session(vault_of(request).catalog, caller.actor, session_id)


@router.put("/whoami/group", response_model=Me)
def switch_group(body: GroupChoice, caller: CallerDep, request: Request) -> Me:
    """Work in another of your groups; objects you create go there."""
    return me(auth.switch_group(vault_of(request).catalog, caller.actor, caller.session_id,
                                body.group_id))
