"""Passwords and login sessions.

Passwords are hashed with argon2id (memory-hard). Session tokens are 256 random
bits handed to the client once; the catalog keeps only their SHA-256, so a
copy of the database opens no session. A session ends on logout, after
``session.idle_timeout`` without use, ``session.max_age`` after login, or when
its user's password changes.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Catalog, clock
from pixelvault.catalog.models import Experimenter, LoginFailure, LoginSession, utcnow
from pixelvault.catalog.permissions import load_actor
from pixelvault.config import Settings
from pixelvault.errors import (
    AuthenticationError,
    NotFoundError,
    TooManyAttemptsError,
)
from pixelvault.services import coherence
from pixelvault.services.access.passwords import check_password, hash_password, needs_rehash
from pixelvault.services.access.session_cache import SESSIONS, CachedSession

log = logging.getLogger(__name__)
WRONG_LOGIN = "wrong user name or password"
NO_SESSION = "no valid session: log in again (`pixelvault login`)"
# Writing last_used_at on every request would make each read a write; a
# minute of slack on a 30-minute idle timeout costs nothing.
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class LoginLimiter:
    """Failed logins, counted in this process over ``window`` seconds.

    A limit per user name alone would let anyone lock a user out by failing
    logins in their name. So the hard limits are per (user name, client
    address), few: one address guessing one password; and per address, more:
    one address spraying many users (many users may share an address, behind a
    proxy or a facility's NAT). Failures for a user from every address only slow
    the answers to further failures for that user, up to ``max_delay`` seconds:
    a guesser spread over many addresses is slowed, the real user, who logs in
    right, is never held up nor refused.
    """

    def __init__(self, per_user: int = 5, per_address: int = 30,
                 window: float = 60.0, max_delay: float = 2.0,
                 catalog: Catalog | None = None) -> None:
        self.limits = {"pair": per_user, "addr": per_address}
        self.window = window
        self.max_delay = max_delay
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        # with a catalog, failures are counted there: every server process and host
        # counts the same ones (in memory, N processes would each allow the limit)
        self.catalog = catalog

    @staticmethod
    def keys(username: str, address: str) -> tuple[str, str, str]:
        """The (user, address), address and user counters of one attempt."""
        user = username.lower()
        return f"pair:{user}\x00{address}", f"addr:{address}", f"user:{user}"

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]  # an attacker's many names must not pile up
            return deque()
        return failures

    def _counted(self, session: Session, key: str, now: datetime) -> tuple[int, datetime | None]:
        """Failures of ``key`` in the catalog within the window, and the oldest one's time."""
        count, first = session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.key_hash == _key_hash(key),
                LoginFailure.at > now - timedelta(seconds=self.window))).one()
        return int(count), None if first is None else _as_utc(first)

    def check(self, username: str, address: str) -> None:
        """Refuse an attempt from an address that failed too often, for this user or all."""
        pair, addr, _user = self.keys(username, address)
        if self.catalog is not None:
            with self.catalog.session() as session:
                now = clock.now(session)  # failures written by every host, by one clock
                for key in (pair, addr):
                    count, first = self._counted(session, key, now)
                    if count >= self.limits[key.split(":", 1)[0]] and first is not None:
                        wait = int((first - now).total_seconds() + self.window) + 1
                        raise TooManyAttemptsError(
                            f"too many failed logins from your address; try again in "
                            f"{wait} s", retry_after=wait)
            return
        now_s = time.monotonic()
        with self._lock:
            for key in (pair, addr):
                failures = self._recent(key, now_s)
                if len(failures) >= self.limits[key.split(":", 1)[0]]:
                    wait = int(failures[0] + self.window - now_s) + 1
                    raise TooManyAttemptsError(
                        f"too many failed logins from your address; try again in {wait} s",
                        retry_after=wait)

    def failed(self, username: str, address: str) -> float:
        """Count a failure; the seconds to wait before answering it."""
        keys = self.keys(username, address)
        if self.catalog is not None:
            with self.catalog.session() as session:
                moment = clock.now(session)
                session.add_all(LoginFailure(key_hash=_key_hash(key), at=moment) for key in keys)
                # what the window has left behind goes (bounded: a burst clears over time)
                old = select(LoginFailure.id).where(
                    LoginFailure.at <= moment - timedelta(seconds=self.window)).limit(1000)
                session.execute(delete(LoginFailure).where(
                    LoginFailure.id.in_(old.scalar_subquery())))
                session.flush()
                everywhere = self._counted(session, keys[2], moment)[0]
        else:
            now = time.monotonic()
            with self._lock:
                for key in keys:
                    self._failures.setdefault(key, deque()).append(now)
                everywhere = len(self._recent(keys[2], now))
        beyond = everywhere - self.limits["pair"]
        return 0.0 if beyond < 0 else min(self.max_delay, 0.05 * 2 ** beyond)

    def succeeded(self, username: str, address: str) -> None:
        """A right password from this address clears this address's count for the user."""
        pair = self.keys(username, address)[0]
        if self.catalog is not None:
            with self.catalog.session() as session:
                session.execute(delete(LoginFailure).where(
                    LoginFailure.key_hash == _key_hash(pair)))
            return
        with self._lock:
            self._failures.pop(pair, None)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class LoginResult:
    token: str
    actor: Actor
    expires_at: datetime
    session_id: int = 0


def login(catalog: Catalog, settings: Settings, username: str, password: str, *,
          client: str = "", limiter: LoginLimiter | None = None,
          address: str = "") -> LoginResult:
    if limiter:
        limiter.check(username, address)
    with catalog.session() as session:
        # A NUL cannot be in any user name, and PostgreSQL refuses it in a query.
        user = None if "\x00" in username else session.scalar(
            select(Experimenter).where(Experimenter.username == username))
        if not check_password(user.password_hash if user else None, password) or user is None:
            if limiter:
                time.sleep(limiter.failed(username, address))
            raise AuthenticationError(WRONG_LOGIN)
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)  # auth.password_profile changed
        actor = load_actor(session, user.id)
        assert actor is not None
        token = secrets.token_urlsafe(32)
        now = clock.now(session)
        expires = now + timedelta(seconds=settings.session_max_age)
        row = LoginSession(token_hash=token_hash(token), user_id=user.id,
                           group_id=actor.group_id, created_at=now, last_used_at=now,
                           expires_at=expires, client=client[:255])
        session.add(row)
        session.flush()
        session_id = row.id
    if limiter:
        limiter.succeeded(username, address)
    return LoginResult(token, actor, expires, session_id)


def join(catalog: Catalog, settings: Settings, token: str, *,
         limiter: LoginLimiter | None = None, address: str = "") -> LoginResult:
    """OMERO's login by session uuid (user name and password both the uuid): the same
    live session again, as a client that lost its cookies logs back in. An ended or
    unknown session is a failed login, counted like a wrong password."""
    if limiter:
        limiter.check(token, address)
    try:
        actor, session_id = authenticate(catalog, settings, token)
    except AuthenticationError:
        if limiter:
            time.sleep(limiter.failed(token, address))
        raise AuthenticationError(WRONG_LOGIN) from None
    with catalog.session() as session:
        row = session.get(LoginSession, session_id)
        expires = _as_utc(row.expires_at) if row is not None else utcnow()
    return LoginResult(token, actor, expires, session_id)


def _as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for aware columns; they were written in UTC."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def authenticate(catalog: Catalog, settings: Settings, token: str) -> tuple[Actor, int]:
    """The actor of a live session, and the session's id; AuthenticationError otherwise."""
    if not token or len(token) > 256:
        raise AuthenticationError(NO_SESSION)
    hashed = token_hash(token)
    cached = SESSIONS.get(catalog.url, hashed, clock.estimate())
    if cached is not None:
        return cached.actor, cached.session_id
    seen = coherence.generation()  # before the query: a change after it is not trusted
    with catalog.session() as session:
        now = clock.now(session)  # every host's sessions end at the same moment
        row = session.scalar(select(LoginSession).where(
            LoginSession.token_hash == hashed, LoginSession.closed_at.is_(None)))
        if row is None:
            raise AuthenticationError(NO_SESSION)
        idle_deadline = _as_utc(row.last_used_at) + timedelta(
            seconds=settings.session_idle_timeout)
        if now >= _as_utc(row.expires_at) or now >= idle_deadline:
            row.closed_at = now
            raise_after_commit = True
        else:
            raise_after_commit = False
            if now - _as_utc(row.last_used_at) >= TOUCH_EVERY:
                row.last_used_at = now
                idle_deadline = now + timedelta(seconds=settings.session_idle_timeout)
            actor = load_actor(session, row.user_id, row.group_id)
            session_id = row.id
            expires_at = _as_utc(row.expires_at)
    if raise_after_commit or actor is None:
        raise AuthenticationError(NO_SESSION)
    SESSIONS.put(catalog.url, hashed, CachedSession(actor, session_id, expires_at,
                                                     idle_deadline, time.monotonic(), seen))
    return actor, session_id


def public_actor(catalog: Catalog, username: str) -> Actor:
    """The actor visitors without a session browse as (``server.public_user``).

    It can only ever read: the server lets it through on safe methods only, and
    an administrator is refused as public user, since they read everything.
    """
    now = utcnow()
    key = "public:" + username
    cached = SESSIONS.get(catalog.url, key, now)
    if cached is not None:
        return cached.actor
    seen = coherence.generation()
    with catalog.session() as session:
        user_id = session.scalar(select(Experimenter.id).where(Experimenter.username == username))
        actor = None if user_id is None else load_actor(session, user_id)
    if actor is None or actor.is_admin:
        log.warning("server.public_user %r %s; visitors need to log in", username,
                    "is an administrator" if actor else "does not exist")
        raise AuthenticationError(NO_SESSION)
    forever = now + timedelta(days=1)
    SESSIONS.put(catalog.url, key, CachedSession(actor, 0, forever, forever, time.monotonic(),
                                                 seen))
    return actor


def forget_checked_sessions() -> None:
    """Call after the commit of any change to sessions, users, groups or memberships:
    this process forgets at once, and so does every other (see coherence)."""
    SESSIONS.clear()
    coherence.changed()


def logout(catalog: Catalog, session_id: int) -> None:
    with catalog.session() as session:
        session.execute(update(LoginSession).where(LoginSession.id == session_id,
                                                   LoginSession.closed_at.is_(None))
                        .values(closed_at=utcnow()))
    forget_checked_sessions()


def close_user_sessions(catalog: Catalog, user_id: int) -> int:
    with catalog.session() as session:
        result = session.execute(update(LoginSession).where(
            LoginSession.user_id == user_id, LoginSession.closed_at.is_(None))
            .values(closed_at=utcnow()))
        closed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    forget_checked_sessions()
    return closed


@dataclass(frozen=True)
class SessionInfo:
    id: int
    user_id: int
    username: str
    group_id: int
    client: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime


def list_sessions(catalog: Catalog, actor: Actor) -> list[SessionInfo]:
    """Open sessions: your own (administrators: everyone's)."""
    with catalog.session() as session:
        query = (select(LoginSession, Experimenter.username)
                 .join(Experimenter, Experimenter.id == LoginSession.user_id)
                 .where(LoginSession.closed_at.is_(None),
                        LoginSession.expires_at > clock.now(session))
                 .order_by(LoginSession.id))
        if not actor.is_admin:
            query = query.where(LoginSession.user_id == actor.user_id)
        return [SessionInfo(row.id, row.user_id, username, row.group_id, row.client,
                            _as_utc(row.created_at), _as_utc(row.last_used_at),
                            _as_utc(row.expires_at))
                for row, username in session.execute(query)]


def end_session(catalog: Catalog, actor: Actor, session_id: int) -> None:
    """End one of your sessions (administrators: anyone's); unknown ids answer 404."""
    with catalog.session() as session:
        row = session.get(LoginSession, session_id)
        if row is None or row.closed_at is not None or (
                row.user_id != actor.user_id and not actor.is_admin):
            raise NotFoundError(f"no open session with id {session_id}")
        row.closed_at = clock.now(session)
    forget_checked_sessions()


def switch_group(catalog: Catalog, actor: Actor, session_id: int, group_id: int) -> Actor:
    """Work in another of your groups from now on (new objects go there)."""
    if group_id not in actor.group_ids:
        raise NotFoundError(f"you are not a member of a group with id {group_id}")
    with catalog.session() as session:
        row = session.get(LoginSession, session_id)
        if row is None:
            raise AuthenticationError(NO_SESSION)
        row.group_id = group_id
        switched = load_actor(session, actor.user_id, group_id)
    forget_checked_sessions()
    assert switched is not None
    return switched
