"""Settings: one TOML file, overridden by ``PIXELVAULT_<KEY>`` environment variables.

Precedence, highest first: environment variable, config file, built-in default.
The config file lives at ``$PIXELVAULT_CONFIG`` or ``<home>/config.toml``, where
home is ``$PIXELVAULT_HOME`` or ``$XDG_DATA_HOME/pixelvault`` (by default
``~/.local/share/pixelvault``). Home also holds what pixelvault keeps for itself:
the embedded SQLite catalog (outside the data dir, because the repository is not
the database), the server's pid and log files.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from pixelvault.errors import ConfigError

if TYPE_CHECKING:
    from pixelvault.formats.decoding.limits import Limits
from pixelvault.sizes import Threshold

ENV_PREFIX = "PIXELVAULT_"


def _parse_path(text: str) -> str:
    if not text.strip():
        raise ValueError("an empty path")
    if "\0" in text:
        raise ValueError("a path with a NUL character")
    return str(Path(text).expanduser().absolute())


def _parse_port(text: str) -> str:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{port} is outside 1..65535")
    return str(port)


def default_server_workers() -> int:
    """One server process per CPU (rendering is CPU-bound), at most 8: each process
    holds its own caches and open files (about 200 MiB), and past 8 a host serves
    more by adding workers for background jobs than by adding server processes."""
    return max(1, min(os.cpu_count() or 1, 8))


def _seconds(low: float, high: float) -> Callable[[str], str]:
    def parse(text: str) -> str:
        try:
            seconds = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number of seconds") from None
        if not low <= seconds <= high:
            raise ValueError(f"{seconds:g} is outside {low:g}..{high:g} seconds")
        return f"{seconds:g}"

    return parse


def _parse_threshold(text: str) -> str:
    return str(Threshold.parse(text))


def _parse_db_url(text: str) -> str:
    if not text.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
        raise ValueError(
            f"{text!r} is not a catalog URL "
            "(sqlite:////path/catalog.sqlite or postgresql://user:pass@host/db)"
        )
    return text


def _parse_host(text: str) -> str:
    if not text.strip() or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not a host name or address")
    return text


def _parse_public_user(text: str) -> str:
    text = text.strip()
    if text and not re.fullmatch(r"[A-Za-z0-9._@-]{1,255}", text):
        raise ValueError(f"{text!r} is not a user name (or leave it empty to turn it off)")
    return text


_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")


def _parse_origins(text: str) -> str:
    """Origins as browsers send them (scheme://host[:port]), comma- or space-separated."""
    origins = []
    for part in re.split(r"[\s,]+", text.strip()):
        if not part:
            continue
        if part == "*":
            raise ValueError("'*' would let every web site act with your users' sessions; "
                             "list the origins, e.g. https://viewer.example.org")
        origin = part.lower().rstrip("/")
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(f"{part!r} is not an origin: write scheme://host[:port], "
                             "e.g. https://viewer.example.org, without a path")
        origins.append(origin)
    return ",".join(dict.fromkeys(origins))


def _parse_proxies(text: str) -> str:
    """Addresses or networks (comma-separated) whose X-Forwarded-For is believed."""
    import ipaddress

    found = []
    for part in re.split(r"[\s,]+", text.strip()):
        if not part:
            continue
        if part == "*":
            raise ValueError("'*' would let any client claim any address (and so escape the "
                             "login limits); list the load balancers, e.g. 10.0.0.10")
        try:
            found.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or network, e.g. 10.0.0.10 or "
                             "10.0.0.0/24") from None
    return ",".join(dict.fromkeys(found))


# OMERO's omero.fs.repo.path: where each import goes in ManagedRepository.
DEFAULT_TEMPLATE = "%user%_%userId%//%year%-%month%/%day%/%time%"
TEMPLATE_TOKENS = ("user", "userId", "group", "groupId", "year", "month", "monthname", "day",
                   "time", "session", "perms", "institution", "hash", "increment")
TEMPLATE_TOKEN = re.compile(r"%([A-Za-z]+)%")


def check_template(template: str) -> str:
    """A path template's syntax: known tokens, relative, no ``..``."""
    unknown = [t for t in TEMPLATE_TOKEN.findall(template) if t not in TEMPLATE_TOKENS]
    if unknown:
        raise ValueError(f"unknown token %{unknown[0]}% (known: "
                         + ", ".join(f"%{t}%" for t in TEMPLATE_TOKENS) + ")")
    if template.startswith("/") or ".." in template.split("/") or not template.strip("/"):
        raise ValueError(f"{template!r} must be a relative path without '..'")
    if "%time%" not in template and "%hash%" not in template \
            and "%increment%" not in template:
        raise ValueError(f"{template!r} needs %time%, %hash% or %increment% so that "
                         "imports get directories of their own")
    return template


def _integer(low: int, high: int, what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number of {what}") from None
        if not low <= number <= high:
            raise ValueError(f"{number} is outside {low}..{high} {what}")
        return str(number)

    return parse


def _parse_bytes(text: str) -> str:
    from pixelvault.sizes import parse_size

    try:
        size = parse_size(text)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    if size < 1 << 20:
        raise ValueError(f"{text!r} is below 1 MiB")
    return str(size)


def _parse_budget(text: str) -> str:
    """A memory budget in bytes; 0 turns the cache off."""
    return "0" if text.strip() == "0" else _parse_bytes(text)


def _parse_switch(text: str) -> str:
    value = text.strip().lower()
    if value in ("on", "true", "yes", "1"):
        return "on"
    if value in ("off", "false", "no", "0"):
        return "off"
    raise ValueError(f"{text!r}: use on or off")


PASSWORD_PROFILES = ("rfc9106-low-memory", "owasp")


def _parse_password_profile(text: str) -> str:
    if text not in PASSWORD_PROFILES:
        raise ValueError(f"{text!r} is not a password profile; use one of "
                         f"{', '.join(PASSWORD_PROFILES)}")
    return text


HTTP_PARSERS = ("h11", "httptools")


def _parse_http_parser(text: str) -> str:
    if text not in HTTP_PARSERS:
        raise ValueError(f"{text!r} is not an HTTP parser; use one of {', '.join(HTTP_PARSERS)}")
    return text


@dataclass(frozen=True)
class Key:
    """One configuration key: how to validate it and where its default comes from."""

    name: str
    parse: Callable[[str], str]
    default: Callable[[Path], str]
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper().replace(".", "_")


KEYS: dict[str, Key] = {
    key.name: key
    for key in (
        Key("data.dir", _parse_path, lambda home: str(home / "OMERO"),
            "repository root holding the six stores"),
        Key("db.url", _parse_db_url, lambda home: f"sqlite:///{home / 'catalog.sqlite'}",
            "catalog database (SQLite file or PostgreSQL URL)"),
        Key("server.host", _parse_host, lambda home: "127.0.0.1", "address the server listens on"),
        Key("server.port", _parse_port, lambda home: "4080", "port the server listens on"),
        Key("server.workers", _integer(1, 64, "server processes"),
            lambda home: str(default_server_workers()),
            "server processes behind the port (default: one per CPU, at most 8; caches "
            "stay coherent across them)"),
        Key("server.http_parser", _parse_http_parser, lambda home: "httptools",
            "httptools (fast; declines HTTP/2 upgrade offers as h11 does, keeping their "
            "body), or h11 (pure Python, slower)"),
        Key("space.warn", _parse_threshold, lambda home: "10%",
            "free space below which diagnostics warn (bytes, 5GiB or 10%)"),
        Key("space.critical", _parse_threshold, lambda home: "1%",
            "free space below which new writes are refused (bytes, 500MB or 1%)"),
        Key("repository.check_interval", _seconds(0.1, 3600), lambda home: "5",
            "seconds between the running server's identity and space checks"),
        Key("session.idle_timeout", _seconds(10, 86400), lambda home: "1800",
            "seconds of inactivity after which a login session ends"),
        Key("session.max_age", _seconds(60, 30 * 86400), lambda home: "43200",
            "seconds after login at which a session ends however busy"),
        Key("fs.repo.path", check_template, lambda home: DEFAULT_TEMPLATE,
            "where each import goes in ManagedRepository (OMERO's template and tokens)"),
        Key("auth.password_profile", _parse_password_profile,
            lambda home: PASSWORD_PROFILES[0],
            "argon2id cost for new password hashes: rfc9106-low-memory (64 MiB) or owasp "
            "(19 MiB)"),
        Key("server.public_user", _parse_public_user, lambda home: "",
            "user whose data visitors without a session may read (empty: off)"),
        Key("server.trusted_proxies", _parse_proxies, lambda home: "127.0.0.1",
            "load balancers (addresses or networks, comma-separated) whose "
            "X-Forwarded-For names the client, for the login limits and the logs"),
        Key("server.cors_origins", _parse_origins, lambda home: "",
            "web origins (scheme://host[:port], comma-separated) whose pages may read "
            "/api/, /webgateway/ and /zarr/ with a user's session (empty: none)"),
        Key("pixels.pyramid_threshold", _integer(1, 1 << 40, "pixels"),
            lambda home: str(3192 * 3192),
            "pixels per plane (size X times size Y) above which an image without "
            "resolution levels of its own gets a pyramid (OMERO's 3192x3192)"),
        Key("pixels.pyramid_workers", _integer(0, 64, "workers"), lambda home: "2",
            "pyramids a server builds at once (0: none; `admin pyramids run` builds them)"),
        Key("pixels.pyramid_part", _parse_budget, lambda home: str(2 << 30),
            "on PostgreSQL, a pyramid whose full-resolution level is bigger than this "
            "(uncompressed) is built in parts of about this size by all the workers at "
            "once (0: always one worker)"),
        Key("jobs.workers", _integer(0, 64, "job workers"), lambda home: "0",
            "job worker processes `pixelvault serve` (and `admin start`) runs beside its "
            "server processes, at lower CPU priority (they add to the servers' own "
            "pixels.pyramid_workers; set that to 0 to leave pyramids to them)"),
        Key("jobs.attempts", _integer(1, 20, "attempts"), lambda home: "3",
            "times a failing background job is tried, with a growing wait between "
            "tries, before it is marked failed"),
        Key("jobs.stop_grace", _seconds(0, 3600), lambda home: "5",
            "seconds a stopping worker lets its running jobs finish before it stops them "
            "and puts them back to wait (PostgreSQL; keep it below systemd's "
            "TimeoutStopSec)"),
        Key("jobs.stalled_after", _seconds(3, 3600), lambda home: "30",
            "seconds without a heartbeat after which a job worker is gone and its jobs "
            "are run again by another (PostgreSQL)"),
        Key("pixels.max_request", _parse_bytes, lambda home: str(256 << 20),
            "largest raw pixel read or write one HTTP request may ask for"),
        Key("pixels.open_files", _integer(1, 10_000, "files"), lambda home: "64",
            "open image files (readers and pixel stores) kept per process"),
        Key("search.indexer", _parse_switch, lambda home: "on",
            "whether a server keeps the search index up to date by itself (on or off)"),
        Key("search.max_content", _parse_bytes, lambda home: str(16 << 20),
            "largest attachment whose text is indexed (text, CSV, XML, PDF)"),
        Key("import.max_pixels", _integer(1, 10**18, "pixels"), lambda home: str(10**12),
            "most pixels (X*Y*Z*C*T) one imported image may declare"),
        Key("import.max_chunk_bytes", _parse_bytes, lambda home: str(256 << 20),
            "most bytes one compressed strip, tile or chunk of an imported file may decode to"),
        Key("import.max_decompression_ratio", _integer(10, 10**9, "times"),
            lambda home: "10000",
            "most bytes of pixels an imported image may declare per byte of its files"),
        Key("import.max_seconds", _seconds(1, 7 * 86400), lambda home: "3600",
            "longest the server or `import` may spend reading one fileset (statistics, "
            "thumbnails); a longer one fails"),
        Key("import.workers", _integer(1, 64, "imports"), lambda home: "2",
            "uploaded filesets a server reads at once; more wait their turn, never holding "
            "a request thread"),
        Key("render.max_region", _integer(1 << 16, 1 << 32, "pixels"),
            lambda home: str(4096 * 4096),
            "largest region (width times height) one rendered image may show"),
        Key("render.tile_cache", _parse_budget, lambda home: str(64 << 20),
            "memory per server process for rendered tiles and planes asked for again "
            "with the same settings (bytes or 64MiB; 0 turns it off)"),
    )
}


def valid_keys_hint() -> str:
    return "valid keys: " + ", ".join(KEYS)


def home_dir(env: Mapping[str, str]) -> Path:
    if env.get("PIXELVAULT_HOME"):
        return Path(env["PIXELVAULT_HOME"]).expanduser().absolute()
    xdg = env.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(xdg).absolute() / "pixelvault"


def config_path(env: Mapping[str, str]) -> Path:
    if env.get("PIXELVAULT_CONFIG"):
        return Path(env["PIXELVAULT_CONFIG"]).expanduser().absolute()
    return home_dir(env) / "config.toml"


def lookup_key(name: str) -> Key:
    try:
        return KEYS[name]
    except KeyError:
        raise ConfigError(f"unknown config key {name!r}; {valid_keys_hint()}") from None


def validate(key: Key, value: str, origin: str) -> str:
    try:
        return key.parse(value)
    except ValueError as exc:
        raise ConfigError(
            f"bad value for {key.name} in {origin}: {exc}; fix it with "
            f"`pixelvault config set {key.name} VALUE` ({key.help})"
        ) from None


def read_file(path: Path) -> dict[str, str]:
    """The keys set in the config file, flattened to ``{"data.dir": ...}``."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML ({exc}); fix or delete it"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    flat: dict[str, str] = {}

    def walk(prefix: str, table: Mapping[str, Any]) -> None:
        for name, value in table.items():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, dict):
                walk(full, value)
            else:
                flat[full] = str(value)

    walk("", raw)
    for name, value in flat.items():
        if name not in KEYS:
            raise ConfigError(f"unknown key {name!r} in {path}; {valid_keys_hint()}")
        validate(KEYS[name], value, str(path))
    return flat


def write_file(path: Path, values: Mapping[str, str]) -> None:
    """Atomically replace the config file (mode 0600: db.url may hold a password)."""
    nested: dict[str, Any] = {}
    for name in sorted(values):
        section, _, leaf = name.rpartition(".")
        nested.setdefault(section, {})[leaf] = values[name]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(nested, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Setting:
    """A key's effective value and where it came from (for `config list`)."""

    key: str
    value: str
    source: str  # "default", "file" or "env"


@dataclass(frozen=True)
class Settings:
    """Validated effective settings; build with :func:`load_settings`."""

    home: Path
    config_file: Path
    values: dict[str, Setting]
    # The environment these settings were read from, so that a reload (after
    # `admin move` switches data.dir) reads the same one.
    env: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def get(self, name: str) -> str:
        return self.values[lookup_key(name).name].value

    @property
    def data_dir(self) -> Path:
        return Path(self.get("data.dir"))

    @property
    def db_url(self) -> str:
        return self.get("db.url")

    @property
    def db_is_embedded_default(self) -> bool:
        return self.values["db.url"].source == "default"

    @property
    def data_dir_is_default(self) -> bool:
        return self.values["data.dir"].source == "default"

    @property
    def host(self) -> str:
        return self.get("server.host")

    @property
    def port(self) -> int:
        return int(self.get("server.port"))

    @property
    def space_warn(self) -> Threshold:
        return Threshold.parse(self.get("space.warn"))

    @property
    def space_critical(self) -> Threshold:
        return Threshold.parse(self.get("space.critical"))

    @property
    def check_interval(self) -> float:
        return float(self.get("repository.check_interval"))

    @property
    def session_idle_timeout(self) -> float:
        return float(self.get("session.idle_timeout"))

    @property
    def session_max_age(self) -> float:
        return float(self.get("session.max_age"))

    @property
    def fs_repo_path(self) -> str:
        return self.get("fs.repo.path")

    @property
    def password_profile(self) -> str:
        return self.get("auth.password_profile")

    @property
    def public_user(self) -> str:
        return self.get("server.public_user")

    @property
    def pyramid_threshold(self) -> int:
        return int(self.get("pixels.pyramid_threshold"))

    @property
    def pyramid_workers(self) -> int:
        return int(self.get("pixels.pyramid_workers"))

    @property
    def pyramid_part(self) -> int:
        return int(self.get("pixels.pyramid_part"))

    @property
    def max_pixel_request(self) -> int:
        return int(self.get("pixels.max_request"))

    @property
    def http_parser(self) -> str:
        return self.get("server.http_parser")

    @property
    def server_workers(self) -> int:
        return int(self.get("server.workers"))

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(origin for origin in self.get("server.cors_origins").split(",") if origin)

    @property
    def open_files(self) -> int:
        return int(self.get("pixels.open_files"))

    @property
    def search_indexer(self) -> bool:
        return self.get("search.indexer") == "on"

    @property
    def search_max_content(self) -> int:
        return int(self.get("search.max_content"))

    @property
    def import_limits(self) -> Limits:
        from pixelvault.formats.decoding.limits import Limits

        return Limits(max_pixels=int(self.get("import.max_pixels")),
                      max_chunk_bytes=int(self.get("import.max_chunk_bytes")),
                      max_decompression_ratio=float(self.get("import.max_decompression_ratio")))

    @property
    def import_max_seconds(self) -> float:
        return float(self.get("import.max_seconds"))

    @property
    def trusted_proxies(self) -> list[str]:
        return [p for p in self.get("server.trusted_proxies").split(",") if p]

    @property
    def job_workers(self) -> int:
        return int(self.get("jobs.workers"))

    @property
    def job_attempts(self) -> int:
        return int(self.get("jobs.attempts"))

    @property
    def jobs_stop_grace(self) -> float:
        return float(self.get("jobs.stop_grace"))

    @property
    def jobs_stalled_after(self) -> float:
        return float(self.get("jobs.stalled_after"))

    @property
    def import_workers(self) -> int:
        return int(self.get("import.workers"))

    @property
    def max_region(self) -> int:
        return int(self.get("render.max_region"))

    @property
    def tile_cache(self) -> int:
        return int(self.get("render.tile_cache"))

    @property
    def state_dir(self) -> Path:
        """Where the server's pid and log files live."""
        return self.home / "var"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    @property
    def base_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - reaching a wildcard bind locally
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    home = home_dir(env)
    path = config_path(env)
    from_file = read_file(path)
    values: dict[str, Setting] = {}
    for name, key in KEYS.items():
        if key.env in env:
            value, source = validate(key, env[key.env], f"environment variable {key.env}"), "env"
        elif name in from_file:
            value, source = validate(key, from_file[name], str(path)), "file"
        else:
            value, source = key.default(home), "default"
        values[name] = Setting(name, value, source)
    settings = Settings(home=home, config_file=path, values=values, env=dict(env))
    if settings.space_critical.limit(10**12) > settings.space_warn.limit(10**12) and (
        (settings.space_critical.percent is None) == (settings.space_warn.percent is None)
    ):
        raise ConfigError(
            f"space.critical ({settings.space_critical}) is above space.warn "
            f"({settings.space_warn}); lower it with `pixelvault config set space.critical VALUE`"
        )
    return settings


def set_value(name: str, value: str, env: Mapping[str, str] | None = None) -> Setting:
    """Validate and store one key; returns what was stored."""
    env = os.environ if env is None else env
    key = lookup_key(name)
    clean = validate(key, value, "the command line")
    path = config_path(env)
    current = read_file(path)
    current[name] = clean
    write_file(path, current)
    return Setting(name, clean, "file")


def unset_value(name: str, env: Mapping[str, str] | None = None) -> bool:
    """Remove a key from the file; returns whether it was set there."""
    env = os.environ if env is None else env
    lookup_key(name)
    path = config_path(env)
    current = read_file(path)
    if name not in current:
        return False
    del current[name]
    write_file(path, current)
    return True
