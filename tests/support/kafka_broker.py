"""Apache Kafka on this machine, for the tests and ``./scripts/run --kafka``.

The broker is the real one: ``org.apache.kafka:kafka_2.13`` and its runtime dependencies, fetched
from Maven Central with Maven (``tests/support/kafka-dist/pom.xml`` pins the version) into a cache
outside the repository (``~/.cache/odr/kafka-<version>``, reused by every later run), and started
with ``java -cp`` in KRaft mode: each node is broker and controller at once, storage formatted with
``kafka.tools.StorageTool``. One node starts in a few seconds; three make a cluster whose
partition leaders can move (the fault tests).

The JVM is kept small (256 MB heap, serial GC) and the settings are those of a test broker:
no initial rebalance delay, internal topics sized for the cluster.

Run as ``python -m tests.support.kafka_broker serve --data-dir var/kafka --port 9092`` it keeps one
persistent node running in the foreground, with the topics of ``deploy/kafka/topics.txt``
(``./scripts/run --kafka`` does this). ``python -m tests.support.kafka_broker fetch`` only fetches
the jars (``./scripts/test`` does this first, so a refused download shows before any test runs).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "tests" / "support" / "kafka-dist" / "pom.xml"
TOPICS_FILE = ROOT / "deploy" / "kafka" / "topics.txt"
CREATE_TOPICS = ROOT / "deploy" / "kafka" / "create-topics.sh"

JVM_OPTIONS = ["-Xmx256m", "-Xms64m", "-XX:+UseSerialGC", "-Xss512k", "-Djava.awt.headless=true"]
# Tools (storage format, kafka-topics) run once and exit: the client compiler is enough for them.
TOOL_JVM_OPTIONS = [*JVM_OPTIONS, "-XX:TieredStopAtLevel=1"]


def kafka_version() -> str:
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    assert found, f"no <kafka.version> in {POM}"
    return found.group(1)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "odr" / f"kafka-{kafka_version()}"


def missing_tools() -> list[str]:
    """What this machine lacks to run the real broker (empty when it can). Maven is needed only
    until the jars are in the cache."""
    missing = [] if shutil.which("java") else ["java"]
    if not (cache_dir() / ".complete").exists() and not shutil.which("mvn"):
        missing.append("mvn")
    return missing


def fetch() -> Path:
    """The directory of the Kafka jars, fetched with Maven on first use. Several processes may
    ask at once (a file lock); a half-fetched directory is never used (renamed into place)."""
    target = cache_dir()
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".complete").exists():
            return target
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
        done = subprocess.run(
            ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime",
             f"-DoutputDirectory={staging}"],
            capture_output=True, text=True, timeout=900,
        )
        if done.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(f"Maven could not fetch Apache Kafka {kafka_version()} ({POM}):\n"
                               f"{(done.stdout + done.stderr)[-4000:]}")
        (staging / ".complete").write_text(f"{kafka_version()}\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def classpath() -> str:
    return f"{fetch()}/*"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _cluster_id() -> str:
    """A Kafka Uuid as ``kafka-storage random-uuid`` prints it; like Kafka's own, never one that
    starts with "-" (a command line would take it for an option)."""
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not found.startswith("-"):
            return found


def _run_async(coro_fn, *args):
    """Run an async client call to completion from sync code, whether or not the calling thread
    already runs an event loop (pytest-asyncio's): on a thread of its own."""
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(coro_fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


class KafkaNode:
    """One KRaft node (broker and controller) of a ``LocalKafka``."""

    def __init__(self, *, node_id: int, port: int, controller_port: int, data_dir: Path) -> None:
        self.node_id = node_id
        self.port = port
        self.controller_port = controller_port
        self.data_dir = data_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.running(), f"node {self.node_id} is running"
        self.starts += 1
        with open(self.log_file, "ab") as log:
            log.write(f"---- start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                ["java", *JVM_OPTIONS, "-cp", classpath(), "kafka.Kafka", str(self.config_file)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def stop(self, *, kill: bool = False, timeout: float = 60.0) -> None:
        """SIGTERM (a controlled shutdown: leadership moves first) or, with ``kill``, SIGKILL; a
        node still running after ``timeout`` seconds is killed."""
        if not self.running():
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.wait_stopped(timeout)

    def wait_stopped(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_file.read_text(errors="replace")[-chars:]
        return ""


class LocalKafka:
    """A KRaft cluster of ``nodes`` nodes on 127.0.0.1, with its data under ``root``.

    ``root`` may hold a cluster formatted earlier (``./scripts/run --kafka`` keeps one in
    ``var/kafka``): then its storage and ports are reused as they are."""

    def __init__(self, root: Path, *, nodes: int = 1, port: int | None = None, partitions: int = 4) -> None:
        self.root = Path(root)
        self.partitions = partitions
        self.size = nodes
        self.nodes: list[KafkaNode] = []
        for i in range(nodes):
            node_port = port + 2 * i if port else free_port()
            controller_port = port + 2 * i + 1 if port else free_port()
            self.nodes.append(KafkaNode(node_id=i + 1, port=node_port, controller_port=controller_port,
                                        data_dir=self.root / f"node{i + 1}"))

    @property
    def bootstrap(self) -> str:
        return ",".join(n.address for n in self.nodes)

    @property
    def version(self) -> str:
        return kafka_version()

    def _properties(self, node: KafkaNode) -> str:
        replication = min(3, self.size)
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        settings = {
            "process.roles": "broker,controller",
            "node.id": node.node_id,
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": node.data_dir / "log",
            "num.partitions": self.partitions,
            "default.replication.factor": replication,
            "min.insync.replicas": max(1, replication - 1),
            "offsets.topic.replication.factor": replication,
            "offsets.topic.num.partitions": 4,
            "transaction.state.log.replication.factor": replication,
            "transaction.state.log.min.isr": max(1, replication - 1),
            "transaction.state.log.num.partitions": 4,
            "share.coordinator.state.topic.replication.factor": replication,
            "share.coordinator.state.topic.min.isr": max(1, replication - 1),
            "group.initial.rebalance.delay.ms": 0,
            # A test machine: small buffers and few threads; deleted topics go at once.
            "num.network.threads": 2,
            "num.io.threads": 4,
            "num.recovery.threads.per.data.dir": 1,
            "log.segment.bytes": 16 * 1024 * 1024,
            "log.retention.check.interval.ms": 60000,
            "controlled.shutdown.enable": "true",
        }
        return "".join(f"{k}={v}\n" for k, v in settings.items())

    def format(self) -> None:
        """Write each node's configuration and format its storage, unless already formatted."""
        cluster_id = None
        for node in self.nodes:
            node.data_dir.mkdir(parents=True, exist_ok=True)
            node.config_file.write_text(self._properties(node))
            if (node.data_dir / "log" / "meta.properties").exists():
                continue
            cluster_id = cluster_id or _cluster_id()
            done = subprocess.run(
                ["java", *TOOL_JVM_OPTIONS, "-cp", classpath(), "kafka.tools.StorageTool", "format",
                 "-t", cluster_id, "-c", str(node.config_file), "--ignore-formatted"],
                capture_output=True, text=True, timeout=120,
            )
            if done.returncode != 0:
                raise RuntimeError(f"formatting Kafka storage failed:\n{(done.stdout + done.stderr)[-3000:]}")

    def start(self, *, timeout: float = 120.0) -> LocalKafka:
        self.format()
        for node in self.nodes:
            if not node.running():
                node.start()
        self.wait_ready(timeout=timeout)
        return self

    def wait_ready(self, *, timeout: float = 120.0) -> None:
        """Until every node is a live broker of the cluster, as a client sees it."""
        deadline = time.monotonic() + timeout
        want = {n.node_id for n in self.nodes if n.running()}
        while True:
            if not all(_listening(n.port) for n in self.nodes if n.node_id in want):
                self._raise_if_exited(want)
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
                continue
            self._raise_if_exited(want)
            if self.live_brokers() >= want:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        tails = "\n".join(f"node {n.node_id}:\n{n.log_tail()}" for n in self.nodes)
        raise RuntimeError(f"Kafka not ready after {timeout}s:\n{tails}")

    def _raise_if_exited(self, want: set[int]) -> None:
        for node in self.nodes:
            if node.node_id in want and node.proc is not None and node.proc.poll() is not None:
                raise RuntimeError(f"Kafka node {node.node_id} exited with {node.proc.returncode}:\n"
                                   f"{node.log_tail()}")

    def live_brokers(self) -> set[int]:
        """Broker ids in the metadata of any running node (empty if none answers)."""
        for node in self.nodes:
            if not node.running():
                continue
            try:
                return _run_async(_broker_ids, node.address)
            except Exception:  # noqa: BLE001 - not up yet
                continue
        return set()

    def restart(self, *, kill: bool = False, timeout: float = 120.0) -> None:
        """Stop every node (SIGKILL with ``kill``) and start them again on the same ports and data."""
        for node in self.nodes:
            node.stop(kill=kill)
        self.start(timeout=timeout)

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM to every node at once (each shuts down in order), or SIGKILL with ``kill``:
        a cluster's last nodes cannot finish a controlled shutdown once the controller quorum is
        gone, so throw-away clusters are killed."""
        for node in self.nodes:
            if node.running():
                node.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        for node in self.nodes:
            if node.proc is not None:
                node.wait_stopped(60.0)

    def leader(self, topic: str, partition: int) -> int:
        """The node id that leads ``partition`` of ``topic`` (-1 while there is none, or while the
        metadata cannot be read: a node just died)."""
        for node in self.nodes:
            if node.running():
                with contextlib.suppress(Exception):
                    return _run_async(_leader, node.address, topic, partition)
        return -1

    def node(self, node_id: int) -> KafkaNode:
        return next(n for n in self.nodes if n.node_id == node_id)

    def create_topics(self, topics_file: Path = TOPICS_FILE) -> str:
        return create_topics(self.bootstrap, replication=min(3, self.size), topics_file=topics_file)


def create_topics(bootstrap: str, *, replication: int = 1, topics_file: Path = TOPICS_FILE) -> str:
    """Create the topics of ``topics_file`` with ``deploy/kafka/create-topics.sh``, the script the
    deployments run, here with ``kafka-topics`` from the fetched jars. Returns its output."""
    shim = cache_dir().parent / f"kafka-{kafka_version()}-bin" / "kafka-topics.sh"
    shim.parent.mkdir(parents=True, exist_ok=True)
    options = " ".join(TOOL_JVM_OPTIONS)
    text = f"#!/bin/sh\nexec java {options} -cp '{classpath()}' org.apache.kafka.tools.TopicCommand \"$@\"\n"
    if not shim.exists() or shim.read_text() != text:
        staging = shim.with_name(f"kafka-topics.{os.getpid()}.sh")
        staging.write_text(text)
        staging.chmod(0o755)
        staging.replace(shim)
    done = subprocess.run(
        ["sh", str(CREATE_TOPICS), bootstrap, str(topics_file), str(replication)],
        env={**os.environ, "KAFKA_TOPICS": str(shim)}, capture_output=True, text=True, timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"create-topics.sh failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


async def _broker_ids(address: str) -> set[int]:
    """The live brokers, once consumer groups work: the first group coordinator lookup creates
    ``__consumer_offsets``, and until then every client logs GroupCoordinatorNotAvailable errors
    (which the services' logs, checked by the end-to-end tests, must not show)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=address, request_timeout_ms=5000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        await admin.find_coordinator("odr-broker-ready")
        return {b["node_id"] for b in cluster["brokers"]}
    finally:
        await admin.close()


async def _leader(address: str, topic: str, partition: int) -> int:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=address, request_timeout_ms=5000)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        for p in described["partitions"]:
            if p["partition"] == partition:
                return p["leader"]
        return -1
    finally:
        await admin.close()


def _serve(args) -> None:
    """One persistent node in the foreground until SIGTERM/SIGINT (``./scripts/run --kafka``)."""
    kafka = LocalKafka(Path(args.data_dir), port=args.port)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        kafka.start()
        kafka.create_topics()
        print(f"Apache Kafka {kafka.version} (KRaft, one node) on {kafka.bootstrap}; data in {kafka.root}", flush=True)
        if args.ready_file:
            Path(args.ready_file).write_text(kafka.bootstrap + "\n")
        while not stopping.wait(1.0):
            if not kafka.nodes[0].running():
                sys.exit(f"Kafka exited:\n{kafka.nodes[0].log_tail()}")
    finally:
        kafka.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.kafka_broker", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="fetch the Kafka jars into the cache and print where they are")
    sub.add_parser("version", help="print the Kafka version the tests run")
    serve = sub.add_parser("serve", help="run one persistent node with the platform's topics")
    serve.add_argument("--data-dir", default="var/kafka")
    serve.add_argument("--port", type=int, default=9092, help="client port; the controller uses the next one")
    serve.add_argument("--ready-file", help="written with the bootstrap address once the topics exist")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        print(fetch())
    elif args.command == "version":
        print(kafka_version())
    else:
        _serve(args)


if __name__ == "__main__":
    main()
