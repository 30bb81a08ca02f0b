"""Start Spark for aifinops and keep it from hanging or talking on the terminal.

``spark_session`` starts (or reuses) the driver JVM with its log4j output and its own stdout/stderr sent
to a log file (``spark_log()``), so a successful run prints nothing of Spark's and a failed one prints one
line naming the log. Starting a context on a standalone master is watched: a URL that answers but is not
a master fails as soon as Spark says so, a silent one after ``timeout_s``. ``JobWatchdog`` cancels the
jobs of a cluster that has had no live executor for ``timeout_s`` (workers that died mid-job), where
Spark would wait forever.

Errors a user can cause (no Java, an unreachable master) are ``SparkEngineError`` with the fix.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from aifinops.errors import AifinopsError, ArgumentError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
T = TypeVar("T")
DEFAULT_TIMEOUT_S = 120.0  # how long a cluster may go without a master's answer or a live executor


class SparkEngineError(AifinopsError):
    """Spark cannot be started or reached."""


# --- session ------------------------------------------------------------------------------------


def check_java() -> str:
    """The java executable Spark will use; a clear error when there is none."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH and JAVA_HOME is not set"
        raise SparkEngineError(
            f"The Spark engine needs Java 17 or 21, and none was found ({where}).",
            "install a JDK (e.g. `apt install openjdk-17-jre-headless`) or set JAVA_HOME to one.",
        )
    return java


def check_master(master: str, timeout_s: float = 3.0) -> None:
    """Fail fast on a cluster master that does not answer (Spark itself retries for minutes)."""
    if master.startswith("local") or master in ("yarn",):
        return
    target = master.removeprefix("k8s://")
    parts = urlsplit(target)
    if parts.scheme not in ("spark", "sc", "http", "https") or not parts.netloc:
        raise ArgumentError(
            f"Not a Spark master URL: {master!r}.",
            "pass --spark-master local[N], spark://HOST:7077, sc://HOST:15002, yarn or k8s://https://HOST:PORT.",
        )
    default_port = {"spark": 7077, "sc": 15002, "http": 80, "https": 443}[parts.scheme]
    hosts = parts.netloc.split(",")  # spark://h1:7077,h2:7077 (standby masters)
    for hostport in hosts:
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
        try:
            with socket.create_connection((host, int(port or default_port)), timeout=timeout_s):
                return
        except (OSError, ValueError):
            continue
    raise SparkEngineError(
        f"The Spark master {master} does not answer (no connection within {timeout_s:.0f}s).",
        "check the host and port (and that the cluster is up), or run locally with --spark-master local[2].",
    )


def spark_session(master: str = DEFAULT_MASTER, conf: dict[str, str] | None = None,
                  timeout_s: float = DEFAULT_TIMEOUT_S) -> SparkSession:
    """A SparkSession on ``master`` with UTC time; local masters bind to 127.0.0.1.

    The JVM's output (log4j and its stdout/stderr) goes to spark_log(), never to the terminal. A master
    that refuses the application (a URL that answers but is not a master) fails as soon as Spark says
    so; one that says nothing fails after ``timeout_s`` (Spark itself retries for a minute).
    """
    try:
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkEngineError("The Spark engine needs PySpark, which is not installed.",
                               "pip install 'aifinops[spark]'.") from exc
    check_java()
    check_master(master)
    _quiet_python_loggers()
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
                "spark.sql.ansi.enabled": "false"}  # NULL for an absent map key or a bad cast, as in DuckDB
    if master.startswith("local"):
        cores = re.fullmatch(r"local\[(\d+)]", master)
        settings.update({"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
                         "spark.sql.shuffle.partitions": str(2 * int(cores.group(1)) if cores else 8),
                         "spark.driver.memory": "2g"})
    settings.update(conf or {})
    if master.startswith("sc://"):  # Spark Connect: no JVM here
        return SparkSession.builder.remote(master).appName("aifinops-rollup").getOrCreate()
    log = spark_log()
    java_options = f"-Dlog4j2.configurationFile={_log4j_config(log).as_uri()}"
    settings["spark.driver.extraJavaOptions"] = " ".join(
        filter(None, [settings.get("spark.driver.extraJavaOptions"), java_options]))
    spark_conf = SparkConf().setMaster(master).setAppName("aifinops-rollup").setAll(list(settings.items()))
    active = SparkContext._active_spark_context
    context = active or _start_context(spark_conf, master, timeout_s, log)
    return SparkSession(context)


def _quiet_python_loggers() -> None:
    """PySpark logs each SQL error it raises (as JSON, with the Java frames) and py4j a lost JVM, on stderr;
    aifinops turns those errors into one line, so their loggers say nothing below CRITICAL."""
    from pyspark.logger import PySparkLogger

    logging.getLogger("py4j").setLevel(logging.CRITICAL)
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)  # created as PySparkLogger, which they must be


def spark_log() -> Path:
    """Where this process's Spark driver writes its log (the JVM's own output included). It is removed
    when the process ends, unless an error message named it (keep_spark_log)."""
    log = Path(tempfile.gettempdir()) / f"aifinops-spark-{os.getpid()}.log"
    if not _LOG_STATE["registered"]:
        _LOG_STATE["registered"] = True
        atexit.register(_remove_log, log)
    return log


_LOG_STATE = {"registered": False, "keep": False}


def keep_spark_log() -> Path:
    """The log, kept after the process ends: for an error message to name."""
    _LOG_STATE["keep"] = True
    return spark_log()


def _remove_log(log: Path) -> None:
    if not _LOG_STATE["keep"]:
        for path in (log, log.with_suffix(".log4j2.properties")):
            path.unlink(missing_ok=True)


def _log4j_config(log: Path) -> Path:
    """A log4j2 configuration that sends every Spark log line (warnings and up) to ``log``."""
    path = log.with_suffix(".log4j2.properties")
    path.write_text(
        "rootLogger.level = warn\n"
        "rootLogger.appenderRef.file.ref = file\n"
        "appender.file.type = File\n"
        "appender.file.name = file\n"
        f"appender.file.fileName = {log}\n"
        "appender.file.layout.type = PatternLayout\n"
        "appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss} %p %c{1}: %m%n%ex\n"
    )
    return path


# Spark's own words, in its log, when the master URL refused the application (StandaloneAppClient).
_REFUSED = ("Failed to connect to master", "All masters are unresponsive")


def _start_context(conf, master: str, timeout_s: float, log: Path):
    """Start the SparkContext in a thread and watch it: Spark's registration with a standalone master
    retries for a minute, with a Java stack trace each time; this returns or fails in seconds."""
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway

    start_at = log.stat().st_size if log.exists() else 0
    gateway = SparkContext._gateway
    if gateway is None:  # the JVM starts once per process; its stdout and stderr go to the log
        with log.open("ab") as sink:
            gateway = launch_gateway(conf, popen_kwargs={"stdout": sink, "stderr": sink})
    box: dict = {}

    def start() -> None:
        try:
            box["context"] = SparkContext(conf=conf, gateway=gateway)
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=start, name="aifinops-spark-start", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while thread.is_alive():
        thread.join(0.25)
        refused = _first_match(log, start_at, _REFUSED) if thread.is_alive() else None
        if refused or (thread.is_alive() and time.monotonic() > deadline):
            _abandon(gateway)
            if refused:
                raise SparkEngineError(
                    f"{master} answers but is not a Spark master{_what_answers(master)} "
                    f"(Spark: {refused}; its log: {keep_spark_log()}).",
                    "pass the master's own URL, shown as 'URL: spark://…' at the top of its web UI "
                    "(port 7077 unless configured), not the web UI's port (8080).")
            raise SparkEngineError(
                f"The Spark master {master} did not accept the application within {timeout_s:.0f} s "
                f"(Spark's log: {keep_spark_log()}).",
                "check that the URL is the master's (spark://HOST:7077) and that it is up, "
                "or allow more time with --spark-timeout.")
    if "error" in box:
        raise SparkEngineError(f"Spark could not start on {master}: {first_line(box['error'])} "
                               f"(Spark's log: {keep_spark_log()}).",
                               "check JAVA_HOME (Java 17 or 21) and the master URL; "
                               "run with --spark-master local[2] to try locally.") from box["error"]
    return box["context"]


def _first_match(log: Path, offset: int, needles: tuple[str, ...]) -> str | None:
    """The first log line after ``offset`` holding one of ``needles`` (its message part)."""
    try:
        with log.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        for needle in needles:
            if needle in line:
                return line[line.index(needle):][:160]
    return None


def _what_answers(master: str) -> str:
    """' (it answers HTTP: a web page)' when the URL's port speaks HTTP, the usual mistake (the UI port).
    Asked only after Spark failed to register, so a real master never sees this probe."""
    parts = urlsplit(master.split(",")[0])
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 7077), timeout=2) as conn:
            conn.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
            conn.settimeout(2)
            if conn.recv(8).startswith(b"HTTP/"):
                return " (it answers HTTP: a web page, e.g. the master's web UI)"
    except (OSError, ValueError):
        pass
    return ""


def _abandon(gateway) -> None:
    """Stop the JVM of a context that never started (its constructor is still waiting on the master)."""
    from pyspark import SparkContext

    proc = getattr(gateway, "proc", None)
    with contextlib.suppress(Exception):
        gateway.shutdown()
    if proc is not None:
        proc.kill()
        proc.wait(timeout=10)
    # the next session of this process must launch a fresh JVM, not reuse the dead gateway
    SparkContext._gateway = None
    SparkContext._jvm = None


class JobWatchdog:
    """Cancels the session's jobs when its cluster has had no live executor for ``timeout_s`` (workers that
    died mid-job, or none with free cores): Spark would wait for one forever. Local masters run in the
    driver and need no watch. Run the jobs through ``run`` to get the watchdog's one-line reason."""

    def __init__(self, spark: SparkSession, timeout_s: float = DEFAULT_TIMEOUT_S, poll_s: float = 0.5):
        self.spark, self.timeout_s, self.poll_s = spark, timeout_s, poll_s
        try:
            self.master = spark.sparkContext.master or ""
        except Exception:  # Spark Connect (a Databricks shared cluster): no context here to watch
            self.master = "local"
        self.reason: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="aifinops-spark-watchdog", daemon=True)

    def __enter__(self) -> JobWatchdog:
        if not self.master.startswith("local"):
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def run(self, job: Callable[..., T], *args) -> T:
        """``job(*args)``; when the watchdog cancelled it, its reason as a SparkEngineError instead of
        whatever the cancelled job raised."""
        try:
            return job(*args)
        except Exception as exc:
            if self.reason:
                raise SparkEngineError(
                    self.reason, "check the cluster's workers (the master's web UI lists them), or give them "
                    f"longer with --spark-timeout (Spark's log: {keep_spark_log()}).") from exc
            raise

    def executors(self) -> int:
        """Live executors (the status tracker lists the driver too)."""
        infos = self.spark.sparkContext._jsc.sc().statusTracker().getExecutorInfos()
        return max(len(infos) - 1, 0)

    def _watch(self) -> None:
        none_since: float | None = None
        while not self._stop.wait(self.poll_s):
            try:
                alive = self.executors()
            except Exception:  # the session is stopping
                return
            now = time.monotonic()
            if alive:
                none_since = None
                continue
            none_since = none_since or now
            if now - none_since >= self.timeout_s:
                self.reason = (f"The Spark cluster {self.master} had no live executor for {self.timeout_s:.0f} s "
                               "(its workers died or have no free cores); the job was cancelled and nothing "
                               "was written.")
                with contextlib.suppress(Exception):
                    self.spark.sparkContext.cancelAllJobs()
                return


def first_line(exc: BaseException) -> str:
    """The first line of an exception, the Java one for a Py4J error (what happened, without frames)."""
    java = getattr(exc, "java_exception", None)  # Py4JJavaError: the Java exception says what happened
    text = (java.toString() if java is not None else str(exc)).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
