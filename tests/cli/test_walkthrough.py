"""A new user's first hour, against a real server process: the README's path."""

import json
import re
import stat

import pytest

from pixelvault.client import connect
from pixelvault.errors import AuthenticationError, ForbiddenError
from tests.conftest import Env
from tests.server.test_lifecycle import free_port


def test_admin_sets_up_a_lab_and_members_work_in_it(running: Env) -> None:
    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    env.cli("login", "-u", "root", "-w", "root-secret-1", check=True)
    session_file = env.home / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert "root-secret-1" not in session_file.read_text()
    env.cli("group", "add", "lab", "--type", "read-annotate", check=True)
    for name in ("alice", "bob"):
        env.cli("user", "add", name, name.title(), "Lab", "--group-name", "lab",
                "-P", f"{name}-secret-1", check=True)
    groups = json.loads(env.cli("group", "list", "--output", "json", check=True).stdout)
    assert {"name": "lab", "permissions": "rwra--"}.items() <= next(
        g for g in groups if g["name"] == "lab").items()
    env.cli("logout", check=True)
    assert not session_file.exists()
    refused = env.cli("project", "list")
    assert refused.returncode == 77 and "run `pixelvault login`" in refused.stderr

    env.cli("login", "-s", url, "-u", "alice", "-w", "alice-secret-1", check=True)
    created = env.cli("project", "create", "Mitosis", "--description", "HeLa", check=True)
    assert re.search(r"created project \d+: Mitosis", created.stdout)
    env.cli("dataset", "create", "Day 1", check=True)
    users = {u["username"] for u in json.loads(
        env.cli("user", "list", "--output", "json", check=True).stdout)}
    assert users == {"alice", "bob"}  # not root, who shares no group with alice

    # Bob, in the same read-annotate group, sees it from Python in three lines.
    conn = connect(url, "bob", "bob-secret-1")
    page = conn.projects.list()
    assert [p["name"] for p in page["data"]] == ["Mitosis"]
    with pytest.raises(ForbiddenError):
        conn.projects.update(page["data"][0]["id"], name="mine now")
    mine = conn.projects.create("Bob's")
    conn.projects.delete(mine["id"])
    conn.logout()
    with pytest.raises(AuthenticationError):
        conn.whoami()
    conn.close()


def test_first_start_prints_a_generated_root_password_once(initialised: Env) -> None:
    initialised.set(server_port=str(free_port()))
    initialised.cli("admin", "start", check=True)
    initialised.cli("admin", "stop", check=True)
    log = (initialised.home / "var" / "server.log").read_text()
    (password,) = re.findall(r"the administrator is root, password: (\S+)", log)
    initialised.cli("admin", "start", check=True)
    try:
        log = (initialised.home / "var" / "server.log").read_text()
        assert len(re.findall(r"the administrator is root, password", log)) == 1
        initialised.cli("login", "-u", "root", "-w", password, check=True)
        wrong = initialised.cli("login", "-u", "root", "-w", "guess-guess")
        assert wrong.returncode == 77 and "wrong user name or password" in wrong.stderr
    finally:
        initialised.cli("admin", "stop")


def test_login_to_a_server_that_is_not_running(sqlite_env: Env) -> None:
    result = sqlite_env.cli("login", "-p", str(free_port()), "-u", "root", "-w", "x")
    assert result.returncode == 69 and "pixelvault admin start" in result.stderr


def test_sessions_commands(running: Env) -> None:
    running.cli("login", "-u", "root", "-w", "root-secret-1", check=True)
    running.cli("group", "add", "lab", check=True)
    listed = json.loads(running.cli("sessions", "list", "--output", "json", check=True).stdout)
    assert len(listed) == 1 and listed[0]["current"] is True
    running.cli("user", "add", "carol", "Carol", "Lab", "-g", "lab", "-P", "carol-secret-1",
                check=True)
    url = f"http://127.0.0.1:{running.vars['PIXELVAULT_SERVER_PORT']}"
    carol = connect(url, "carol", "carol-secret-1")
    carols = next(s for s in json.loads(running.cli("sessions", "list", "--output", "json",
                                                    check=True).stdout)
                  if s["username"] == "carol")
    running.cli("sessions", "logout", str(carols["id"]), check=True)
    with pytest.raises(AuthenticationError):
        carol.whoami()
    carol.close()
    switched = running.cli("sessions", "group", "lab")
    assert switched.returncode == 66  # root is not a member of lab
    assert running.cli("sessions", "group", "system", check=True).returncode == 0


def test_annotate_download_chgrp_and_chown_from_the_command_line(running: Env) -> None:
    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    env.cli("login", "-u", "root", "-w", "root-secret-1", check=True)
    env.cli("group", "add", "lab-a", "--type", "private", check=True)
    env.cli("group", "add", "lab-b", "--type", "read-only", check=True)
    env.cli("user", "add", "alice", "Alice", "Lab", "--group-name", "lab-a",
            "-P", "alice-secret-1", check=True)
    env.cli("user", "add", "bob", "Bob", "Lab", "--group-name", "lab-b",
            "-P", "bob-secret-1", check=True)
    env.cli("group", "adduser", "lab-b", "alice", check=True)

    env.cli("login", "-s", url, "-u", "alice", "-w", "alice-secret-1", check=True)
    created = env.cli("project", "create", "Mitosis", check=True).stdout
    project = int(re.findall(r"created project (\d+)", created)[0])
    target = f"Project:{project}"
    env.cli("annotate", target, "--comment", "stained on Monday", check=True)
    env.cli("annotate", target, "--tag", "mitosis", check=True)
    env.cli("annotate", target, "--map", "Cell line=HeLa", "--map", "Stain=DAPI", check=True)
    notes = env.home / "results.csv"
    notes.write_bytes(b"cell,area\n1,20.5\n" * 1000)
    attached = json.loads(env.cli("annotate", target, "--file", str(notes), "-o", "json",
                                  check=True).stdout)
    assert attached["file"]["name"] == "results.csv"
    listed = json.loads(env.cli("annotations", target, "-o", "json", check=True).stdout)
    assert [a["type"] for a in listed] == ["comment", "tag", "map", "file"]
    assert listed[2]["values"] == [["Cell line", "HeLa"], ["Stain", "DAPI"]]
    table = env.cli("annotations", target, check=True).stdout
    assert "Cell line=HeLa" in table and "results.csv" in table

    out_dir = env.home / "downloads"
    out_dir.mkdir()
    env.cli("download", f"FileAnnotation:{attached['id']}", str(out_dir), check=True)
    assert (out_dir / "results.csv").read_bytes() == notes.read_bytes()
    assert [p.name for p in out_dir.iterdir()] == ["results.csv"]  # no partial left over
    again = env.cli("download", f"FileAnnotation:{attached['id']}", str(out_dir))
    assert again.returncode == 64 and "--force" in again.stderr
    env.cli("download", f"FileAnnotation:{attached['id']}", str(out_dir), "--force",
            check=True)
    piped = env.cli("download", f"OriginalFile:{attached['file']['id']}", "-", check=True)
    assert piped.stdout == notes.read_text()
    for args, fix in ((["annotate", "Project"], "Project:ID"),
                      (["annotate", target], "exactly one"),
                      (["annotate", target, "--map", "novalue"], "KEY=VALUE"),
                      (["annotate", target, "--file", str(env.home / "missing")], "readable"),
                      (["download", "Image:1"], "OriginalFile:ID"),
                      (["download", f"FileAnnotation:{listed[0]['id']}"], "not a file"),
                      (["download", "OriginalFile:999999"], "no file")):
        failed = env.cli(*args)
        assert failed.returncode != 0 and fix in failed.stderr, (args, failed.stderr)

    # Alice moves her project into the read-only group, where bob can then read it.
    preview = json.loads(env.cli("chgrp", "lab-b", target, "--dry-run", "-o", "json",
                                 check=True).stdout)
    assert preview["dry_run"] and preview["moved"]["project"] == [project]
    bob = connect(url, "bob", "bob-secret-1")
    assert bob.projects.list()["total"] == 0
    assert "moved to lab-b" in env.cli("chgrp", "lab-b", target, check=True).stdout
    assert [p["id"] for p in bob.projects.list()["data"]] == [project]
    assert len(bob.projects.annotations(project)) == 4
    refused = env.cli("chown", "bob", target)
    assert refused.returncode == 77 and "owners of group" in refused.stderr

    env.cli("login", "-u", "root", "-w", "root-secret-1", check=True)
    given = env.cli("chown", "bob", target, check=True).stdout
    assert "given to bob" in given
    assert bob.projects.get(project)["owner_id"] == bob.whoami()["user_id"]
    bob.close()


def test_the_client_uploads_and_downloads_streams_with_checksums(running: Env) -> None:
    import io

    env = running
    url = f"http://127.0.0.1:{env.vars['PIXELVAULT_SERVER_PORT']}"
    with connect(url, "root", "root-secret-1") as conn:
        project = conn.projects.create("Attachments")["id"]
        data = bytes(range(256)) * 20_000
        seen: list[tuple[int, int | None]] = []
        made = conn.projects.attach(project, io.BytesIO(data), name="../../raw.bin",
                                    progress=lambda done, total: seen.append((done, total)))
        assert made["file"]["name"] == "raw.bin" and seen[-1][0] == len(data)
        sink = io.BytesIO()
        saved = conn.download(made["file"]["id"], sink)
        assert sink.getvalue() == data and saved["hasher"] == "SHA1-160"
        assert conn.annotation(made["id"])["file"]["size"] == len(data)
        conn.delete_annotation(made["id"])
        assert conn.projects.annotations(project) == []
        # Importing from Python: grouped here, uploaded, checked and read by the server.
        from tests.formats.samples import png_rgb

        picture = png_rgb(env.home)
        sent: list[int] = []
        result = conn.import_(picture.path, dataset="From Python", progress=sent.append)
        (fileset,) = result["imported"]
        assert sum(sent) == picture.path.stat().st_size and result["failed"] == []
        image = conn.images.get(fileset["images"][0])
        assert image["name"] == "photo.png"
