"""Start a throw-away Virtuoso for tests (a helper, not a test module).

:class:`Virtuoso` writes a ``virtuoso.ini`` into its own temporary directory (database,
logs, free SQL and HTTP ports on 127.0.0.1), starts ``virtuoso-t`` in the foreground,
waits until ``/sparql`` answers, lets the anonymous ``SPARQL`` user run updates (and the
Graph Store Protocol at ``/sparql-graph-crud``) and, on :meth:`Virtuoso.stop`, shuts it
down and removes the directory. ``tests/conftest.py`` wraps it in the session fixture
``virtuoso_url``. The binaries come from Debian's ``virtuoso-opensource-7-bin`` package:
``make services`` installs it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BINARY = "virtuoso-t"
ISQL = "isql-vt"
INSTALL_HINT = (
    "virtuoso-t not found: run `make services` (as root: apt-get install "
    "virtuoso-opensource-7-bin) to install Virtuoso for the remote-store tests"
)

_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
MaxQueryMem = 500M
CheckpointInterval = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/vsp
ServerThreads = 8
MaxClientConnections = 8
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 60
"""

#: Run as dba once the server is up: updates and graph-store writes by the anonymous user.
_GRANTS = "GRANT SPARQL_UPDATE TO \"SPARQL\";\nDB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);\n"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Virtuoso:
    """One Virtuoso server with its own database directory; a context manager."""

    def __init__(self, *, startup_timeout: float = 120.0) -> None:
        self.startup_timeout = startup_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="coopgraph-virtuoso-"))
        self.sql_port = free_port()
        self.http_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The SPARQL endpoint (queries and updates)."""
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def graph_store_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql-graph-crud"

    def log(self) -> str:
        path = self.dir / "virtuoso.log"
        return path.read_text("utf-8", "replace")[-3000:] if path.exists() else "(no log)"

    def start(self) -> Virtuoso:
        """Start the server and wait until ``/sparql`` answers.

        :raises FileNotFoundError: ``virtuoso-t`` is not installed (see INSTALL_HINT).
        :raises RuntimeError: it exited or did not answer in time (with its log).
        """
        binary = shutil.which(BINARY)
        if binary is None:
            raise FileNotFoundError(INSTALL_HINT)
        (self.dir / "vsp").mkdir()
        ini = self.dir / "virtuoso.ini"
        ini.write_text(
            _INI.format(dir=self.dir, sql_port=self.sql_port, http_port=self.http_port), "utf-8"
        )
        with (self.dir / "stdout.log").open("wb") as out:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [binary, "+foreground", "+configfile", str(ini)],
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait()
        self.isql(_GRANTS)
        return self

    def _wait(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        query = urllib.parse.urlencode({"query": "ASK {}"})
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"virtuoso-t exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}?{query}", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"virtuoso-t did not answer within {self.startup_timeout} s")

    def isql(self, sql: str) -> str:
        """Run SQL statements as ``dba`` (password ``dba``: the server only listens on
        127.0.0.1 and lives for one test session).

        :raises RuntimeError: isql failed or reported an error.
        """
        isql = shutil.which(ISQL)
        if isql is None:
            raise FileNotFoundError(INSTALL_HINT)
        done = subprocess.run(
            [isql, f"127.0.0.1:{self.sql_port}", "dba", "dba", "VERBOSE=OFF", "PROMPT=OFF"],
            input=sql.encode("utf-8"),
            capture_output=True,
            timeout=60,
            check=False,
        )
        out = (done.stdout + done.stderr).decode("utf-8", "replace")
        if done.returncode != 0 or "*** Error" in out:
            raise RuntimeError(f"isql failed ({done.returncode}): {out}")
        return out

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s) and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Virtuoso:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
