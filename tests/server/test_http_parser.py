"""Both HTTP parsers decline Java's HTTP/2 upgrade offer (QuPath on http://) and keep
the request's body and the connection: the login goes through, whole or in pieces,
and the next request on the same connection is answered."""

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import Env
from tests.server.test_lifecycle import free_port, wait_for

PASSWORD = "root-secret-1"
JAVA_UPGRADE = (b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                b"HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n")


@contextmanager
def serving(env: Env, parser: str) -> Iterator[int]:
    """A real server on ``parser``; its port."""
    env.cli("admin", "init", check=True)
    number = free_port()
    env.set(server_port=str(number), server_http_parser=parser, root_password=PASSWORD,
            search_indexer="off")
    server = subprocess.Popen([sys.executable, "-m", "pixelvault", "serve"], env=env.vars,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _answers(number), timeout=60)
        yield number
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(params=["httptools", "h11"])
def port(request: pytest.FixtureRequest, sqlite_env: Env) -> Iterator[int]:
    with serving(sqlite_env, request.param) as number:
        yield number


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def login_request(extra: bytes = JAVA_UPGRADE) -> tuple[bytes, bytes]:
    body = json.dumps({"username": "root", "password": PASSWORD}).encode()
    head = (b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra +
            b"Content-Type: application/json\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n\r\n")
    return head, body


def responses(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """``count`` whole responses read from ``sock``: (status, body)."""
    data, found = b"", list[tuple[int, bytes]]()
    deadline = time.monotonic() + 20
    while len(found) < count and time.monotonic() < deadline:
        while b"\r\n\r\n" in data and len(found) < count:
            head, rest = data.split(b"\r\n\r\n", 1)
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            if len(rest) < length:
                break
            found.append((int(head.split()[1]), rest[:length]))
            data = rest[length:]
        if len(found) < count:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return found


def test_an_upgrade_offer_keeps_its_body_and_the_connection(port: int) -> None:
    head, body = login_request()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head + body)
        [(status, answer)] = responses(sock, 1)
        assert status == 200, answer
        token = json.loads(answer)["token"]
        sock.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\n\r\n")
        [(status, answer)] = responses(sock, 1)
        assert status == 200 and json.loads(answer)["username"] == "root"


def test_a_body_in_pieces_and_a_request_right_behind_it(port: int) -> None:
    head, body = login_request()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head)
        time.sleep(0.2)
        sock.sendall(body[:7])
        time.sleep(0.2)
        # the rest of the body with the next request in the same packet
        sock.sendall(body[7:] + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        (login, _), (health, answer) = responses(sock, 2)
        assert login == 200 and health == 200 and b"status" in answer


def test_a_body_over_the_read_buffer_is_carried_whole(port: int) -> None:
    """300 kB of JSON whitespace: reading pauses and resumes as the application reads."""
    body = json.dumps({"username": "root", "password": PASSWORD}).encode()
    body = body[:-1] + b" " * 300_000 + b"}"
    head = (b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n" + JAVA_UPGRADE +
            b"Content-Type: application/json\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head + body + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        (login, answer), (health, _) = responses(sock, 2)
        assert login == 200, answer
        assert health == 200


def test_a_body_answered_before_it_arrived_does_not_stall_the_connection(port: int) -> None:
    """A 404 answered from the headers alone: the 300 kB body that follows is dropped,
    and the next request on the connection is answered."""
    body = b"x" * 300_000
    head = (b"POST /api/v1/no-such-route HTTP/1.1\r\nHost: 127.0.0.1\r\n" + JAVA_UPGRADE +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head)
        [(status, _)] = responses(sock, 1)
        assert status == 404
        sock.sendall(body + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        [(status, answer)] = responses(sock, 1)
        assert status == 200 and b"status" in answer


def test_a_pipeline_of_offers_is_all_answered(port: int) -> None:
    """600 offers in one read: one after the other, not one call inside the next."""
    one = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + JAVA_UPGRADE + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(one * 600)
        found = responses(sock, 600)
    assert len(found) == 600 and {status for status, _ in found} == {200}


def test_any_offer_not_taken_up_is_declined(port: int) -> None:
    spelled = (b"Connection: keep-alive\r\nConnection: Upgrade\r\n"
               b"Upgrade: h2c, foo/1\r\n")
    head, body = login_request(extra=spelled)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head + body)
        [(status, answer)] = responses(sock, 1)
        assert status == 200, answer


def test_a_plain_login_on_the_same_parser(port: int) -> None:
    head, body = login_request(extra=b"")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head + body)
        assert responses(sock, 1)[0][0] == 200


def test_a_refused_chunked_offer_does_nothing(sqlite_env: Env) -> None:
    """The request is cut off, not run with an empty body: the logout never happens."""
    with serving(sqlite_env, "httptools") as number:
        head, body = login_request(extra=b"")
        with socket.create_connection(("127.0.0.1", number), timeout=20) as sock:
            sock.sendall(head + body)
            token = json.loads(responses(sock, 1)[0][1])["token"].encode()
        bearer = b"Authorization: Bearer " + token + b"\r\n"
        with socket.create_connection(("127.0.0.1", number), timeout=20) as sock:
            sock.sendall(b"POST /api/v1/logout HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bearer +
                         JAVA_UPGRADE + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            assert responses(sock, 1)[0][0] == 400
        time.sleep(0.5)  # what a logout run meanwhile would have done, done
        with socket.create_connection(("127.0.0.1", number), timeout=20) as sock:
            sock.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bearer +
                         b"\r\n")
            assert responses(sock, 1)[0][0] == 200


@pytest.mark.parametrize(("extra", "says"), [
    (b"Transfer-Encoding: chunked\r\n", b"chunked"),
    (b"Content-Length: 12x\r\n", b"Invalid HTTP request"),
    (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"Invalid HTTP request"),
])
def test_an_upgrade_offer_it_cannot_carry_is_refused(sqlite_env: Env, extra: bytes,
                                                    says: bytes) -> None:
    with serving(sqlite_env, "httptools") as number, \
            socket.create_connection(("127.0.0.1", number), timeout=20) as sock:
        sock.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                     JAVA_UPGRADE + extra + b"\r\n")
        [(status, answer)] = responses(sock, 1)
        assert status == 400 and says in answer
