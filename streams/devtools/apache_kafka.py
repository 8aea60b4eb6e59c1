"""A real Apache Kafka 4.x broker on loopback: one KRaft node (broker + controller).

The broker runs from plain jars that ``make kafka`` (``tools/kafka/fetch.sh``)
fetches with Maven into ``.vane/kafka/<version>/libs``; no Docker, no download
at run time. Set ``VANE_KAFKA_HOME`` to use another Kafka home instead (a
directory with ``libs/``, e.g. an unpacked Apache Kafka distribution).

    with ApacheKafka() as kafka:
        print(kafka.bootstrap, kafka.start_s, kafka.rss_bytes())

Each broker gets two free loopback ports and a temporary directory (config,
data, log) that ``__exit__`` removes. ``tls=(cert, key)`` adds an SSL listener,
``scram_users={"name": "password"}`` a SASL_SSL one (SASL_PLAINTEXT without
``tls``) with SCRAM-SHA-256 and SCRAM-SHA-512, the users written by Kafka's own
storage tool at format time (docs/security.md):

    with ApacheKafka(tls=(cert, key), scram_users={"vane": "pw"}) as kafka:
        kafka.bootstrap_for("SASL_SSL")   # 127.0.0.1:<port>

Secrets stay off command lines: the key and certificate go to a ``0600`` PEM
keystore, the passwords to a ``0600`` argument file of the storage tool that is
deleted once the storage is formatted. The JVM runs in its own session and dies
with us (``PR_SET_PDEATHSIG``, which follows the spawning *thread*: start it
from a long-lived one); stopping is SIGTERM, then SIGKILL after 15 s, also when
the start fails.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import ctypes
import hashlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

from aiokafka.admin import AIOKafkaAdminClient

from streams.devtools.supervision import Started

MIN_JAVA = 17
START_TIMEOUT_S = 60.0  # format, start, first answered Metadata request
FORMAT_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # as the tests' Kafka containers
STAMP = "fetched.stamp"  # written by tools/kafka/fetch.sh once libs/ is complete
# Small heap (two shared cores); serial GC and C1 only start faster.
JVM_FLAGS = (
    "-Xmx512m",
    "-Xms256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
TOOL_FLAGS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto")
LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = warn
"""
_PR_SET_PDEATHSIG = 1
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
# The storage tool parses ``[name=...,password=...]``: these would break it apart.
_SCRAM_UNSAFE = re.compile(r'[\s,\[\]="\\]')


class ApacheKafkaError(RuntimeError):
    """The broker could not be formatted or started."""


def repo_root() -> Path:
    """The repository this file lives in (``streams/devtools/`` is two levels down)."""
    return Path(__file__).resolve().parents[2]


def pinned_version(root: Path) -> str | None:
    """The Kafka version pinned in ``tools/kafka/pom.xml`` (None without the pom)."""
    pom = root / "tools" / "kafka" / "pom.xml"
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", _read(pom))
    return found.group(1).strip() if found else None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def kafka_libs(root: Path | None = None) -> Path | None:
    """The broker's jar directory, or None when it has not been fetched.

    That is ``<root>/.vane/kafka/<version pinned in the pom>/libs`` once fetched;
    without ``root``, ``$VANE_KAFKA_HOME/libs`` when that is set, else this repository.
    """
    home = os.environ.get("VANE_KAFKA_HOME")
    if root is None and home:
        libs = Path(home) / "libs"
        return libs if any(libs.glob("kafka_2.13-*.jar")) else None
    root = root or repo_root()
    version = pinned_version(root)
    if version is None:
        return None
    fetched = root / ".vane" / "kafka" / version
    return fetched / "libs" if (fetched / STAMP).is_file() else None


def java_major(java: Path) -> int | None:
    """The major version of a ``java`` binary (8 for 1.8), None if it does not run."""
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(?:1\.)?(\d+)', out.stderr + out.stdout)
    return int(found.group(1)) if found else None


def find_java() -> Path | None:
    """``$JAVA_HOME/bin/java`` if set, else ``java`` on PATH (whatever its version)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return Path(home) / "bin" / "java"
    found = shutil.which("java")
    return Path(found) if found else None


def java_problem() -> str | None:
    """Why no Java 17+ can run the broker, or None when one can."""
    java = find_java()
    if java is None:
        return "no java (JAVA_HOME unset, none on PATH)"
    major = java_major(java)
    if major is None or major < MIN_JAVA:
        return f"no Java {MIN_JAVA}+ (found {java}: version {major})"
    return None


def unavailable() -> str | None:
    """Why no broker can start here (no jars, no Java 17+), or None when one can."""
    if kafka_libs() is None:
        return "no Apache Kafka jars: run `make kafka` (needs Java 17+ and Maven)"
    return java_problem()


def class_archive(libs: Path, java: Path) -> Path:
    """Where the class-data-sharing archive of these jars on this JVM build lives."""
    real = java.resolve()
    tag = hashlib.sha256(f"{real}:{real.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    return libs.parent / f"classes-{tag}.jsa"


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def cluster_id() -> str:
    """A random 22-character base64url cluster id (never starting with '-')."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def broker_properties(port: int, controller: int, data_dir: Path) -> dict[str, str]:
    """The single-node KRaft settings (a dynamic quorum of one, formatted standalone)."""
    plain, ctl = f"PLAINTEXT://127.0.0.1:{port}", f"CONTROLLER://127.0.0.1:{controller}"
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller}",
        "controller.listener.names": "CONTROLLER",
        "listeners": f"{plain},{ctl}",
        "advertised.listeners": f"{plain},{ctl}",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "auto.create.topics.enable": "true",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "min.insync.replicas": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Vane's fast joins use a 3 s session (INFRA.md); Kafka refuses < 6 s by default.
        "group.min.session.timeout.ms": "500",
        "message.max.bytes": str(MAX_MESSAGE_BYTES),
        "replica.fetch.max.bytes": str(MAX_MESSAGE_BYTES),
        "log.cleaner.enable": "true",
        "log.cleaner.backoff.ms": "500",
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),  # 128 MiB by default
    }


def security_properties(
    base: Mapping[str, str], listeners: Mapping[str, int], keystore: Path | None
) -> dict[str, str]:
    """``base`` (:func:`broker_properties`) with listeners (protocol → port) added.

    TLS from a PEM keystore (KIP-651: one file holding the key and the chain),
    SCRAM-SHA-256/512 on the SASL ones. Inter-broker and controller traffic stay
    PLAINTEXT on loopback.
    """
    if not listeners:
        return {}
    urls = "".join(f",{name}://127.0.0.1:{port}" for name, port in listeners.items())
    props = {key: base[key] + urls for key in ("listeners", "advertised.listeners")}
    protocols = "".join(f",{name}:{name}" for name in listeners)
    props["listener.security.protocol.map"] = base["listener.security.protocol.map"] + protocols
    if keystore is not None:
        props |= {"ssl.keystore.type": "PEM", "ssl.keystore.location": str(keystore)}
    for name in (n.lower() for n in listeners if n.startswith("SASL")):
        props[f"listener.name.{name}.sasl.enabled.mechanisms"] = ",".join(SCRAM_MECHANISMS)
        for mechanism in SCRAM_MECHANISMS:
            props[f"listener.name.{name}.{mechanism.lower()}.sasl.jaas.config"] = SCRAM_LOGIN
    return props


def scram_format_args(users: Mapping[str, str]) -> list[str]:
    """The storage tool's ``--add-scram`` arguments: every user, both mechanisms."""
    args = []
    for name, password in users.items():
        if not name or not password or _SCRAM_UNSAFE.search(name + password):
            raise ValueError(
                "SCRAM user names and passwords: no spaces, commas, brackets, = or quotes"
            )
        for mechanism in SCRAM_MECHANISMS:
            args += ["--add-scram", f"{mechanism}=[name={name},password={password}]"]
    return args


def _argfile_line(arg: str) -> str:
    """One argument of a java ``@argfile``, quoted."""
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"\n'


def render_properties(props: Mapping[str, object]) -> str:
    """A Java properties file: ``key=value`` lines, booleans in lower case."""
    lines = []
    for key, value in props.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        text = text.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"{key}={text}\n")
    return "".join(lines)


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (created 0600, never wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when the spawning thread dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


async def _metadata_brokers(bootstrap: str) -> int:
    """How many brokers a Metadata request lists (raises when it is not answered)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        return len((await admin.describe_cluster())["brokers"])
    finally:
        await admin.close()


def broker_answers(bootstrap: str) -> bool:
    """True when the broker answers a Metadata request listing itself.

    Runs its own event loop in a helper thread, so it works under a running loop too.
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            return pool.submit(asyncio.run, _metadata_brokers(bootstrap)).result() > 0
        except Exception:
            return False


class ApacheKafka(Started):
    """A single-node Apache Kafka broker in a temporary directory (a context manager).

    ``properties`` are added to (and override) the generated server.properties;
    ``format_args`` go to the storage tool (e.g. ``["--add-scram", ...]``);
    ``libs`` defaults to :func:`kafka_libs`, ``java`` to a checked Java 17+.
    ``class_sharing`` keeps an AppCDS archive beside ``libs/`` (dumped by the
    first broker that stops cleanly): later starts load classes from it, ~40 %
    faster. ``tls`` (certificate chain and key, PEM) adds an ``SSL`` listener;
    ``scram_users`` adds ``SASL_SSL`` (``SASL_PLAINTEXT`` without ``tls``) with
    SCRAM-SHA-256 and SCRAM-SHA-512 for each user; :meth:`bootstrap_for` names
    each listener's address.
    """

    def __init__(
        self,
        properties: Mapping[str, object] | None = None,
        *,
        libs: Path | None = None,
        java: Path | None = None,
        format_args: Sequence[str] = (),
        jvm_flags: Sequence[str] = JVM_FLAGS,
        start_timeout_s: float = START_TIMEOUT_S,
        class_sharing: bool = True,
        tls: tuple[Path, Path] | None = None,
        scram_users: Mapping[str, str] | None = None,
    ) -> None:
        self.extra = dict(properties or {})
        self.libs, self.java = libs, java
        self.format_args, self.jvm_flags = list(format_args), list(jvm_flags)
        self.start_timeout_s, self.class_sharing = start_timeout_s, class_sharing
        self.tls, self.scram_users = tls, dict(scram_users or {})
        self._scram_args = scram_format_args(self.scram_users)  # ValueError before any start
        self.ports: dict[str, int] = {}  # listener protocol → port, beside PLAINTEXT
        self.port = self.controller_port = 0
        self.pid = 0
        self.start_s = 0.0
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._archive: Path | None = None
        self._dump: Path | None = None

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:<port>`` of the PLAINTEXT listener."""
        return f"127.0.0.1:{self.port}"

    def bootstrap_for(self, protocol: str) -> str:
        """``127.0.0.1:<port>`` of the listener speaking ``protocol`` (e.g. ``"SASL_SSL"``)."""
        if protocol == "PLAINTEXT":
            return self.bootstrap
        if protocol not in self.ports:
            raise ApacheKafkaError(f"no {protocol} listener (served: {', '.join(self.ports)})")
        return f"127.0.0.1:{self.ports[protocol]}"

    @property
    def dir(self) -> Path:
        """The temporary directory: server.properties, log4j2.properties, data/, broker.log."""
        if self._tmp is None:
            raise ApacheKafkaError("the broker is not started")
        return self._tmp

    @property
    def log_dir(self) -> Path:
        """The broker's ``log.dirs`` (its data)."""
        return self.dir / "data"

    @property
    def log_path(self) -> Path:
        """The broker's stdout and stderr (and the storage tool's)."""
        return self.dir / "broker.log"

    def start(self) -> Self:
        """Format the storage, start the JVM and wait until it answers; clean up on failure."""
        started = time.monotonic()
        try:
            self._prepare()
            self._format()
            self._spawn()
            self._wait_ready(started + self.start_timeout_s)
        except BaseException:
            self.stop()
            raise
        self.start_s = time.monotonic() - started
        return self

    def _prepare(self) -> None:
        libs = self.libs or kafka_libs()
        if libs is None:
            raise ApacheKafkaError("no Apache Kafka jars: run `make kafka` or set VANE_KAFKA_HOME")
        problem = None if self.java else java_problem()
        if problem:
            raise ApacheKafkaError(problem)
        self.libs, self.java = libs, self.java or find_java()
        if self.class_sharing and self.java is not None:
            self._archive = class_archive(libs, self.java)
        self._tmp = Path(tempfile.mkdtemp(prefix="vane-kafka-"))
        names = self._listener_names()
        self.port, self.controller_port, *extra = free_ports(2 + len(names))
        self.ports = dict(zip(names, extra, strict=True))
        props = broker_properties(self.port, self.controller_port, self.log_dir)
        props |= security_properties(props, self.ports, self._write_keystore())
        (self.dir / "server.properties").write_text(render_properties(props | self.extra))
        (self.dir / "log4j2.properties").write_text(LOG4J2)

    def _listener_names(self) -> list[str]:
        names = ["SSL"] if self.tls else []
        if self.scram_users:
            names.append("SASL_SSL" if self.tls else "SASL_PLAINTEXT")
        return names

    def _write_keystore(self) -> Path | None:
        """The PEM keystore Kafka reads: the private key, then the certificate chain (0600)."""
        if self.tls is None:
            return None
        cert, key = self.tls
        path = self.dir / "keystore.pem"
        _write_private(path, key.read_text().strip() + "\n" + cert.read_text().strip() + "\n")
        return path

    def _java(self, flags: Sequence[str], main: str, *args: str) -> list[str]:
        log4j = f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}"
        cds = self._cds(dump=main == "kafka.Kafka")
        return [str(self.java), *flags, *cds, log4j, "-cp", f"{self.libs}/*", main, *args]

    def _cds(self, dump: bool) -> list[str]:
        """Flags that use the class archive, or that dump it at exit when there is none."""
        archive = self._archive
        if archive is None:
            return []
        if archive.is_file():
            return [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off"]
        if not dump or not os.access(archive.parent, os.W_OK):
            return []
        self._dump = archive.with_name(f"{archive.name}.{os.getpid()}-{id(self)}.tmp")
        return [f"-XX:ArchiveClassesAtExit={self._dump}", "-Xlog:cds=off"]

    def _keep_archive(self, returncode: int | None) -> None:
        """Publish the dumped archive of a broker that started and exited by itself."""
        dump, self._dump = self._dump, None
        if dump is None or self._archive is None:
            return
        if self.start_s > 0 and returncode is not None and returncode >= 0 and dump.is_file():
            os.replace(dump, self._archive)
        dump.unlink(missing_ok=True)

    def _format(self) -> None:
        config = str(self.dir / "server.properties")
        args = ["format", "-t", cluster_id(), "-c", config, "--standalone", *self.format_args]
        args += self._scram_args
        # The main class and its arguments sit in a java @argfile (0600): SCRAM
        # passwords never show on a command line; the file goes once formatted.
        argfile = self.dir / "format.args"
        _write_private(argfile, "".join(map(_argfile_line, ["kafka.tools.StorageTool", *args])))
        try:
            done = self._run_tool(self._java(TOOL_FLAGS, f"@{argfile}"))
        finally:
            argfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise ApacheKafkaError(self._failure(f"storage format exited {done.returncode}"))

    def _run_tool(self, argv: list[str]) -> subprocess.CompletedProcess[bytes]:
        with self.log_path.open("ab") as log:
            try:
                return subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=FORMAT_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise ApacheKafkaError(self._failure("storage format hung")) from None

    def _spawn(self) -> None:
        argv = self._java(self.jvm_flags, "kafka.Kafka", str(self.dir / "server.properties"))
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.pid = self._proc.pid

    def _wait_ready(self, deadline: float) -> None:
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise ApacheKafkaError(self._failure(f"broker exited {self._proc.returncode}"))
            if _listening(self.port) and broker_answers(self.bootstrap):
                return
            if time.monotonic() > deadline:
                raise ApacheKafkaError(self._failure(f"no answer in {self.start_timeout_s:g} s"))
            time.sleep(0.2)

    def _failure(self, what: str) -> str:
        tail = _read(self.log_path).splitlines()[-20:]
        return f"Apache Kafka {what} ({self.log_path}, last lines):\n" + "\n".join(tail)

    def producer_ids(self, topic: str) -> list[int]:
        """The producer id of every record batch of ``topic`` on disk, in log order per
        partition; -1 for batches of a producer that is not idempotent."""
        return [pid for log in sorted(self.log_dir.glob(f"{topic}-*/*.log")) for pid in _pids(log)]

    def rss_bytes(self) -> int:
        """The broker JVM's resident memory (VmRSS), 0 when it is not running."""
        if self._proc is None:
            return 0
        for line in _read(Path(f"/proc/{self.pid}/status")).splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        """SIGTERM the broker, SIGKILL it after 15 s; remove the temporary directory."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _stop(proc, STOP_GRACE_S)
            self._keep_archive(proc.returncode)
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


_BATCH_HEAD = struct.Struct(">qi")  # a record batch starts: base offset, length after this
_PRODUCER_ID_AT = 43  # bytes into a v2 batch: offset, length, epoch, magic, crc, attributes...


def _pids(log: Path) -> list[int]:
    """The producer id of each record batch (magic 2) in one log segment file."""
    data, pos, out = log.read_bytes(), 0, []
    while pos + _PRODUCER_ID_AT + 8 <= len(data):
        _, length = _BATCH_HEAD.unpack_from(data, pos)
        if length <= 0:  # the preallocated tail of the active segment
            break
        out.append(struct.unpack_from(">q", data, pos + _PRODUCER_ID_AT)[0])
        pos += _BATCH_HEAD.size + length
    return out


def _stop(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """Terminate a child's session, then kill it; always reap it."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait_s)
