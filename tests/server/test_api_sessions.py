"""Logging in and out, tokens, cookies and CSRF, timeouts, rate limits."""

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pixelvault.catalog.models import LoginSession, Permissions, utcnow
from pixelvault.services.access.auth import token_hash
from pixelvault.services.access.session_cache import SESSIONS
from tests.server.conftest import PASSWORD, ROOT_PASSWORD, Api, World


def test_login_whoami_logout(api: Api) -> None:
    answer = api.client.post("/api/v1/login", json={"username": "root",
                                                    "password": ROOT_PASSWORD})
    assert answer.status_code == 200
    body = answer.json()
    assert body["username"] == "root" and body["is_admin"] is True
    assert len(body["token"]) >= 43  # 256 random bits
    headers = {"Authorization": f"Bearer {body['token']}"}
    api.client.cookies.clear()
    assert api.client.get("/api/v1/whoami", headers=headers).json()["username"] == "root"
    assert api.client.post("/api/v1/logout", headers=headers).status_code == 204
    gone = api.client.get("/api/v1/whoami", headers=headers)
    assert gone.status_code == 401 and gone.headers["WWW-Authenticate"] == "Bearer"


def test_tokens_are_stored_hashed(api: Api) -> None:
    token = api.login("root", ROOT_PASSWORD)["Authorization"].split()[1]
    with api.vault.catalog.session() as session:
        stored = session.scalars(select(LoginSession.token_hash)).all()
    assert token not in stored and token_hash(token) in stored


def test_wrong_password_and_unknown_user_look_the_same(api: Api) -> None:
    wrong = api.client.post("/api/v1/login", json={"username": "root", "password": "nope"})
    nobody = api.client.post("/api/v1/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json() == {"message": "wrong user name or password"}


def test_failed_logins_are_rate_limited(api: Api) -> None:
    for _ in range(5):
        assert api.client.post("/api/v1/login", json={"username": "root",
                                                      "password": "guess"}).status_code == 401
    limited = api.client.post("/api/v1/login", json={"username": "root",
                                                     "password": ROOT_PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_a_token_in_the_url_is_never_accepted(api: Api) -> None:
    token = api.login("root", ROOT_PASSWORD)["Authorization"].split()[1]
    for param in ("token", "session", "bsession", "access_token"):
        assert api.client.get(f"/api/v1/whoami?{param}={token}").status_code == 401


def test_cookie_sessions_need_the_csrf_header_for_changes(api: Api) -> None:
    answer = api.client.post("/api/v1/login", json={"username": "root",
                                                    "password": ROOT_PASSWORD})
    assert "httponly" in answer.headers["set-cookie"].lower()
    assert api.client.get("/api/v1/whoami").status_code == 200  # reading needs no CSRF
    refused = api.client.post("/api/v1/projects", json={"name": "p"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    wrong = api.client.post("/api/v1/projects", json={"name": "p"},
                            headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 403
    csrf = api.client.cookies["csrftoken"]
    ok = api.client.post("/api/v1/projects", json={"name": "p"}, headers={"X-CSRFToken": csrf})
    assert ok.status_code == 201


def test_idle_and_absolute_timeouts(api: Api) -> None:
    idle = api.login("root", ROOT_PASSWORD)
    old = api.login("root", ROOT_PASSWORD)
    with api.vault.catalog.session() as session:
        session.execute(update(LoginSession).where(
            LoginSession.token_hash == token_hash(idle["Authorization"].split()[1]))
            .values(last_used_at=utcnow() - timedelta(hours=1)))
        session.execute(update(LoginSession).where(
            LoginSession.token_hash == token_hash(old["Authorization"].split()[1]))
            .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert api.client.get("/api/v1/whoami", headers=idle).status_code == 401
    assert api.client.get("/api/v1/whoami", headers=old).status_code == 401


def test_checked_sessions_are_remembered_only_briefly(api: Api, world: World) -> None:
    xavier = world.headers["xavier"]
    group = world.groups[Permissions.READ_ONLY]
    api.client.post("/api/v1/projects", headers=world.headers["alice"],
                    json={"name": "p", "group_id": group})
    assert api.client.get("/api/v1/projects", headers=xavier).json()["total"] == 0
    # A new membership counts on the next request, although the session was just checked.
    assert api.client.post(f"/api/v1/groups/{group}/members", headers=world.headers["root"],
                           json={"user_id": world.users["xavier"]}).status_code == 204
    assert api.client.get("/api/v1/projects", headers=xavier).json()["total"] == 1
    # A session closed by another process on the same catalog ends within the cache's TTL.
    with api.vault.catalog.session() as session:
        session.execute(update(LoginSession).where(
            LoginSession.token_hash == token_hash(xavier["Authorization"].split()[1]))
            .values(closed_at=utcnow()))
    time.sleep(SESSIONS.ttl + 0.1)
    assert api.client.get("/api/v1/projects", headers=xavier).status_code == 401


def test_password_change_ends_sessions(api: Api, world: World) -> None:
    alice = world.headers["alice"]
    other = api.login("alice")
    user_id = world.users["alice"]
    bad = api.client.put(f"/api/v1/users/{user_id}/password", headers=alice,
                         json={"new_password": "a new secret", "old_password": "wrong"})
    assert bad.status_code == 403
    ok = api.client.put(f"/api/v1/users/{user_id}/password", headers=alice,
                        json={"new_password": "a new secret", "old_password": PASSWORD})
    assert ok.status_code == 204
    assert api.client.get("/api/v1/whoami", headers=other).status_code == 401
    api.login("alice", "a new secret")
    # Nobody but an administrator changes someone else's password.
    assert api.client.put(f"/api/v1/users/{world.users['bob']}/password",
                          headers=api.login("alice", "a new secret"),
                          json={"new_password": "hijacked!!"}).status_code == 404


def test_list_and_end_sessions(api: Api, world: World) -> None:
    alice, other = world.headers["alice"], api.login("alice")
    mine = api.client.get("/api/v1/sessions", headers=alice).json()
    assert {s["username"] for s in mine} == {"alice"} and len(mine) == 2
    assert [s["current"] for s in mine].count(True) == 1
    everyone = api.client.get("/api/v1/sessions", headers=world.headers["root"]).json()
    assert {"alice", "bob", "olga", "xavier", "root"} <= {s["username"] for s in everyone}
    other_id = next(s["id"] for s in mine if not s["current"])
    # Nobody ends another user's session but an administrator.
    assert api.client.delete(f"/api/v1/sessions/{other_id}",
                             headers=world.headers["bob"]).status_code == 404
    assert api.client.delete(f"/api/v1/sessions/{other_id}", headers=alice).status_code == 204
    assert api.client.get("/api/v1/whoami", headers=other).status_code == 401
    assert api.client.get("/api/v1/whoami", headers=alice).status_code == 200


def test_switching_the_current_group(api: Api, world: World) -> None:
    from pixelvault.catalog.models import Permissions

    alice = world.headers["alice"]
    target = world.groups[Permissions.READ_WRITE]
    switched = api.client.put("/api/v1/whoami/group", headers=alice, json={"group_id": target})
    assert switched.status_code == 200 and switched.json()["group_id"] == target
    made = api.client.post("/api/v1/projects", headers=alice, json={"name": "here"})
    assert made.json()["group_id"] == target
    assert api.client.get("/api/v1/whoami", headers=alice).json()["group_id"] == target
    outside = api.client.put("/api/v1/whoami/group", headers=world.headers["xavier"],
                             json={"group_id": target})
    assert outside.status_code == 404


def test_an_open_admin_session_cannot_change_the_admins_password(api: Api) -> None:
    root = api.login("root", ROOT_PASSWORD)
    me = api.client.get("/api/v1/whoami", headers=root).json()["user_id"]
    without_old = api.client.put(f"/api/v1/users/{me}/password", headers=root,
                                 json={"new_password": "taken over!!"})
    assert without_old.status_code == 403
    with_old = api.client.put(f"/api/v1/users/{me}/password", headers=root, json={
        "new_password": "a fresh secret", "old_password": ROOT_PASSWORD})
    assert with_old.status_code == 204


def test_one_address_may_fail_for_several_users_before_it_is_limited(api: Api,
                                                                     world: World) -> None:
    """Users behind one proxy share an address; one user's typos must not lock them all."""
    for _ in range(5):
        api.client.post("/api/v1/login", json={"username": "alice", "password": "typo"})
    assert api.client.post("/api/v1/login", json={"username": "alice", "password": PASSWORD}
                           ).status_code == 429
    assert api.client.post("/api/v1/login", json={"username": "bob", "password": PASSWORD}
                           ).status_code == 200


def _login(client: TestClient, username: str, password: str) -> int:
    answer = client.post("/api/v1/login", json={"username": username, "password": password})
    return int(answer.status_code)


def test_failing_logins_for_a_user_does_not_lock_the_user_out(api: Api, world: World) -> None:
    """Limits count per (user, address) and per address: an attacker's failures refuse the
    attacker, never the real user logging in from elsewhere; failures for one user from
    many addresses only slow the answers to further failures."""
    app = api.client.app
    attacker = TestClient(app, client=("203.0.113.9", 40000))
    alice_at_home = TestClient(app, client=("198.51.100.4", 50000))
    for _ in range(5):
        assert _login(attacker, "alice", "guess") == 401
    assert _login(attacker, "alice", PASSWORD) == 429  # even with the right password
    assert _login(alice_at_home, "alice", PASSWORD) == 200
    # Spraying other names from the attacker's address ends at the address's limit...
    for number in range(25):
        assert _login(attacker, f"user{number}", "guess") == 401
    assert _login(attacker, "bob", PASSWORD) == 429
    # ...and bob, elsewhere, is not concerned.
    assert _login(alice_at_home, "bob", PASSWORD) == 200
    # Guessing alice's password from ever more addresses gets slower answers.
    elapsed = []
    for host in ("203.0.113.10", "203.0.113.11", "203.0.113.12"):
        started = time.monotonic()
        assert _login(TestClient(app, client=(host, 40000)), "alice", "guess") == 401
        elapsed.append(time.monotonic() - started)
    assert elapsed[-1] >= 0.4  # the 8th failure for alice waits 0.05 s x 2^3
    assert _login(alice_at_home, "alice", PASSWORD) == 200


def test_a_nul_in_a_user_name_is_a_wrong_login(api: Api) -> None:
    """PostgreSQL refuses NUL in a query: this used to be a 500 there. The JSON body's
    own check refuses it first (400); never a session, never a 5xx."""
    assert _login(api.client, "ro\x00ot", ROOT_PASSWORD) == 400
