"""Run a real multi-node OpenSearch cluster on loopback, for tests.

Each node is one JVM (``hubsearch.oscluster.ClusterNode``, built from ``pom.xml`` in this folder):
OpenSearch 2.19.6's server code from Maven Central with the Netty4 transport and analysis-common
plugins on the classpath. Stdlib only.

    with OpenSearchCluster(nodes=2, workdir=tmp_path) as cluster:
        cluster.urls          # ["http://127.0.0.1:PORT", ...], one per node
        cluster.stop_node(1)  # kill one node (SIGKILL by default: a crash, not a goodbye)

`make test` builds the jar with Maven first (downloading ~74 MB into ~/.m2 the first time; later
builds run offline from the cache); a start here builds it only if that has not happened, and the
jar is rebuilt only when pom.xml or the Java source changes. tests/conftest.py starts one 2-node
cluster per pytest session (fixture ``opensearch_cluster``).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "target"
JAR = TARGET / "opensearch-cluster-0.1.0.jar"
CLASSPATH_FILE = TARGET / "classpath.txt"
MAIN_CLASS = "hubsearch.oscluster.ClusterNode"

# Small heaps: a test node holds a few hundred documents. Serial GC: fewest threads on 2 cores.
DEFAULT_JVM_OPTS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:-UsePerfData",
    "-Xss1m",
    "-Djava.awt.headless=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)

_LIVE: set[subprocess.Popen] = set()


class ClusterError(RuntimeError):
    pass


def _kill_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


@atexit.register
def _kill_leftovers() -> None:  # last resort if a context manager was never exited
    for proc in list(_LIVE):
        _kill_group(proc)
        _LIVE.discard(proc)


def _sources_mtime() -> float:
    paths = [HERE / "pom.xml", *(HERE / "src").rglob("*")]
    return max(p.stat().st_mtime for p in paths if p.is_file())


def is_built() -> bool:
    """Whether the jar and classpath file are newer than pom.xml and src/, and every jar the
    classpath names (in a Maven repository) is still there."""
    if not (JAR.exists() and CLASSPATH_FILE.exists()):
        return False
    sources = _sources_mtime()
    return (
        JAR.stat().st_mtime >= sources
        and CLASSPATH_FILE.stat().st_mtime >= sources
        and all(Path(p).exists() for p in CLASSPATH_FILE.read_text().strip().split(os.pathsep))
    )


def java_command() -> str | None:
    """The java the nodes run on: $JAVA_HOME/bin/java if JAVA_HOME is set, else java on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        return str(java) if os.access(java, os.X_OK) else None
    return shutil.which("java")


def unavailable_reason() -> str | None:
    """Why no cluster can start here (no Java; no jar built and no Maven to build it), or None."""
    if java_command() is None:
        return "needs a JDK 17 (java on PATH or JAVA_HOME) to run OpenSearch nodes"
    if not is_built() and shutil.which("mvn") is None:
        return (
            "needs Maven (mvn) to build the OpenSearch test node "
            "(`make test` builds it when Maven is there)"
        )
    return None


def build(log_path: Path | None = None, *, force: bool = False) -> dict:
    """Build the node jar and its classpath file unless they are up to date.

    Tries Maven offline first (everything already in ~/.m2), then online. Returns
    {"mode": "up-to-date"|"offline"|"online", "seconds": float}.
    """
    t0 = time.monotonic()
    if not force and is_built():
        return {"mode": "up-to-date", "seconds": time.monotonic() - t0}
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ClusterError("mvn not found on PATH (Maven 3.8+ and a JDK 17 are needed)")
    log_path = log_path or (TARGET / "maven-build.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    extra = []
    repo = os.environ.get("OPENSEARCH_CLUSTER_M2_REPO")  # e.g. a fresh dir, to time a cold download
    if repo:
        extra.append(f"-Dmaven.repo.local={repo}")
    for mode, flags in (("offline", ["-o"]), ("online", [])):
        with open(log_path, "ab") as log:
            rc = subprocess.call(
                [mvn, "-q", "-B", *flags, *extra, "package"],
                cwd=HERE,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if rc == 0 and JAR.exists() and CLASSPATH_FILE.exists():
            # Maven leaves an unchanged classpath.txt alone: mark both as built from these sources
            for built in (JAR, CLASSPATH_FILE):
                os.utime(built)
            return {"mode": mode, "seconds": time.monotonic() - t0}
    raise ClusterError(f"Maven build of the OpenSearch node failed; see {log_path}")


def classpath() -> str:
    return os.pathsep.join([str(JAR), CLASSPATH_FILE.read_text().strip()])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str, method: str = "GET", body=None, timeout: float = 30.0):
    """A tiny JSON-over-HTTP helper (so the tests need no client library)."""
    data = None
    headers = {}
    if body is not None:
        if isinstance(body, (list, tuple)):  # NDJSON for _bulk
            data = ("\n".join(json.dumps(x) for x in body) + "\n").encode()
            headers["Content-Type"] = "application/x-ndjson"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


class OpenSearchCluster:
    """N OpenSearch nodes on 127.0.0.1, one process (group) each; all killed on exit."""

    def __init__(
        self,
        nodes: int = 2,
        workdir: str | os.PathLike | None = None,
        *,
        cluster_name: str = "hubsearch-test",
        start_timeout: float = 180.0,
        jvm_opts: tuple[str, ...] = DEFAULT_JVM_OPTS,
        java: str | None = None,
    ):
        if nodes < 1:
            raise ValueError("nodes must be >= 1")
        self.n = nodes
        self.workdir = (
            Path(workdir)
            if workdir
            else Path(os.environ.get("TMPDIR", "/tmp")) / f"oscluster-{os.getpid()}"
        )
        self.cluster_name = cluster_name
        self.start_timeout = start_timeout
        self.jvm_opts = tuple(jvm_opts)
        self.java = java or java_command() or "java"
        self.node_names = [f"node-{i}" for i in range(nodes)]
        self.http_ports: list[int] = []
        self.transport_ports: list[int] = []
        self.procs: list[subprocess.Popen | None] = []
        self.log_paths: list[Path] = []
        self.build_info: dict = {}
        self.start_seconds: float | None = None  # processes launched -> cluster green

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> OpenSearchCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.build_info = build(self.workdir / "maven-build.log")
        cp = classpath()
        ports = set()
        while len(ports) < 2 * self.n:
            ports.add(free_port())
        ports = sorted(ports)
        self.http_ports, self.transport_ports = ports[: self.n], ports[self.n :]
        seeds = ",".join(f"127.0.0.1:{p}" for p in self.transport_ports)
        t0 = time.monotonic()
        for i, name in enumerate(self.node_names):
            home = self.workdir / name
            home.mkdir(parents=True, exist_ok=True)
            (home / "tmp").mkdir(exist_ok=True)
            log_path = self.workdir / f"{name}.log"
            self.log_paths.append(log_path)
            args = [
                f"--cluster-name={self.cluster_name}",
                f"--node-name={name}",
                f"--home={home}",
                f"--http-port={self.http_ports[i]}",
                f"--transport-port={self.transport_ports[i]}",
                "--exit-on-stdin-eof=true",
            ]
            if self.n == 1:
                args.append("--discovery-type=single-node")
            else:
                args += [
                    f"--seed-hosts={seeds}",
                    f"--initial-cluster-managers={','.join(self.node_names)}",
                ]
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    [
                        self.java,
                        *self.jvm_opts,
                        f"-Djava.io.tmpdir={home / 'tmp'}",
                        "-cp",
                        cp,
                        MAIN_CLASS,
                        *args,
                    ],
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own group: killpg takes the JVM and what it forks
                    cwd=home,
                )
            _LIVE.add(proc)
            self.procs.append(proc)
        self.wait_for(status="green", nodes=self.n, timeout=self.start_timeout)
        self.start_seconds = time.monotonic() - t0

    def stop(self) -> None:
        """Stop every node: SIGTERM to each process group, SIGKILL whatever is left after 10 s."""
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                _kill_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            if proc is None:
                continue
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(proc, signal.SIGKILL)  # also reaps any child left in the group
            proc.wait()
            if proc.stdin:
                proc.stdin.close()
            _LIVE.discard(proc)

    def stop_node(self, i: int, *, hard: bool = True) -> None:
        """Stop node i: SIGKILL (a crash) by default, SIGTERM (a clean shutdown) with hard=False."""
        proc = self.procs[i]
        if proc is None or proc.poll() is not None:
            return
        _kill_group(proc, signal.SIGKILL if hard else signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            proc.wait()
        if proc.stdin:
            proc.stdin.close()
        _LIVE.discard(proc)

    # -- inspection --------------------------------------------------------------------------
    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.http_ports]

    @property
    def live_urls(self) -> list[str]:
        return [
            u
            for u, p in zip(self.urls, self.procs, strict=True)
            if p is not None and p.poll() is None
        ]

    def is_running(self, i: int) -> bool:
        return self.procs[i] is not None and self.procs[i].poll() is None

    def rss_mb(self) -> list[float | None]:
        """Resident memory of each node's JVM in MiB (None once stopped)."""
        out = []
        for proc in self.procs:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                kb = next(
                    int(line.split()[1])
                    for line in status.splitlines()
                    if line.startswith("VmRSS:")
                )
                out.append(round(kb / 1024, 1))
            except (OSError, StopIteration, AttributeError):
                out.append(None)
        return out

    def _log_tail(self, i: int, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_paths[i].read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_for(
        self, *, status: str = "green", nodes: int | None = None, timeout: float = 120.0
    ) -> dict:
        """Poll _cluster/health on the live nodes until `status` with `nodes` nodes, or raise."""
        nodes = self.n if nodes is None else nodes
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for i, proc in enumerate(self.procs):
                if proc is not None and proc.poll() is not None and proc in _LIVE:
                    raise ClusterError(
                        f"OpenSearch node {self.node_names[i]} exited with code {proc.returncode}; "
                        f"see {self.log_paths[i]}:\n{self._log_tail(i)}"
                    )
            for url in self.live_urls:
                try:
                    code, body = http_json(
                        f"{url}/_cluster/health?wait_for_nodes={nodes}&wait_for_status={status}&timeout=2s",
                        timeout=10,
                    )
                except (OSError, ValueError) as e:  # not listening yet
                    last = repr(e)
                    continue
                last = body
                if code == 200 and isinstance(body, dict) and not body.get("timed_out"):
                    return body
            time.sleep(0.5)
        logs = ", ".join(str(p) for p in self.log_paths)
        raise ClusterError(
            f"cluster not {status} with {nodes} node(s) after {timeout:.0f}s "
            f"(last answer: {last}); logs: {logs}"
        )
