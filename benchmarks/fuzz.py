"""Fuzz the OCPP-J gateway of a real embedded CSMS: ``python -m benchmarks.fuzz`` (``make fuzz``).

Starts ``chargestream run`` as its own process (processors on, dashboard off, a fresh data
directory, its log as JSON lines into a file) and drives it over real WebSockets on
127.0.0.1:

- frame workers, one charge point connection each (one of them registered lenient), send
  the cases of ``benchmarks.fuzzcases`` pipelined in small batches, each batch closed by a
  Heartbeat "sync" CALL; every answer up to the sync's is matched, in order, against what
  the oracle says the gateway owes (exactly one answer per CALL, none per CALLRESULT or
  CALLERROR, the right message id, a CALLRESULT valid against the response schema);
- a handshake task opens raw TCP connections with fuzzed opening handshakes (odd paths and
  ids, wrong subprotocols, bad Basic auth, garbage HTTP) spread over the run;
- a canary charge point sends a Heartbeat every ``canary_interval`` s, each must be
  answered within ``canary_deadline`` s, and a StatusNotification every few seconds whose
  ``info`` must show up through the API: the processors keep deriving;
- a monitor samples the CSMS's RSS, reads its log as it grows (an ERROR record, a
  traceback, an asyncio "exception was never retrieved" is a finding) and prints progress.

Memory is bounded if the peak RSS of the second half of the run (after a warm-up) exceeds
the peak of the first half by less than ``max_growth_mb``: a leak of a few hundred bytes
per frame shows there, allocator noise and caches filling up do not.

Every case depends only on (seed, stream, index): a finding names them, and
``--replay STREAM:INDEX --seed SEED`` sends that one case to a fresh CSMS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from benchmarks.fuzzcases import (
    KNOWN_ISSUES,
    FrameCase,
    FrameFuzzer,
    HandshakeCase,
    HandshakeFuzzer,
    check_answer,
    read_answer,
)
from chargestream.app.pki import with_pki
from chargestream.domain.settings import Settings

SUBPROTOCOL = "ocpp1.6"
MAX_FRAME_BYTES = 65536
HARD_LIMIT = MAX_FRAME_BYTES * 16  # gateway/server.py: beyond it the socket closes with 1009
PROTECTED = "FUZZ-AUTH"
PASSWORD = "fuzz-correct-horse-battery-staple"
CANARY = "FUZZ-CANARY"
# Log events that mean the CSMS lost something although it did not log an ERROR.
BAD_WARNINGS = frozenset(
    {"derivation_failed", "frame_not_stored", "disconnect_not_stored", "registry_update_failed"}
)
# The gateway's limits (docs/configuration.md, "Limits"), generous enough that the fuzzer's
# own traffic is never throttled but still counted; wrong passwords keep their default, and
# the handshake cases come from 64 loopback addresses and accept a 429.
GENEROUS_LIMITS = {
    "CHARGESTREAM_CALLS_PER_SECOND": "1000000",
    "CHARGESTREAM_CONNECTIONS_PER_ADDRESS": "1000",
}


@dataclass
class FuzzConfig:
    frames: int = 1_000_000
    seed: int = 0
    workers: int = 8  # frame connections; worker 0 is a lenient charge point
    batch: int = 16  # frames sent before a sync Heartbeat
    handshakes_per_frame: float = 0.005
    canary_interval: float = 0.25
    canary_deadline: float = 10.0
    answer_deadline: float = 60.0  # for a whole batch
    probe_every: float = 5.0  # seconds between processor probes
    derive_deadline: float = 120.0  # the last probe must be derived this long after the end
    warmup: float = 0.2  # share of the frames before memory counts
    max_growth_mb: float = 32.0
    progress_every: float = 10.0  # seconds between progress lines (0: none)
    keep_data: bool = False
    avoid: frozenset[str] = frozenset()  # known issues whose inputs are left out
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    what: str  # a short category: "answer", "handshake", "canary", "log", "memory", ...
    detail: str
    case: str = ""  # the case, as FrameCase/HandshakeCase.describe()
    replay: str = ""  # the --replay argument that sends the case again

    @property
    def signature(self) -> str:
        """The finding without its numbers: findings with one cause share it."""
        return f"[{self.what}] " + re.sub(r"\d+", "#", self.detail)[:140]

    def __str__(self) -> str:
        text = f"[{self.what}] {self.detail[:2000]}"
        if self.case:
            text += f"\n    case: {self.case}"
        if self.replay:
            text += f"\n    replay: --seed <seed> --replay {self.replay}"
        return text


@dataclass
class FuzzReport:
    seed: int
    frames: int = 0  # fuzz frames sent (sync Heartbeats not counted)
    answers: int = 0  # answers received to fuzz frames and syncs
    syncs: int = 0
    handshakes: int = 0
    reconnects: int = 0
    elapsed: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    handshake_statuses: Counter[str] = field(default_factory=Counter)
    canary_latencies: list[float] = field(default_factory=list)
    probe_lags: list[float] = field(default_factory=list)
    rss: list[tuple[int, float]] = field(default_factory=list)  # (frames sent, MB)
    warnings: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)  # the first 3 of each signature
    signatures: Counter[str] = field(default_factory=Counter)
    exit_code: int | None = None

    @property
    def findings_total(self) -> int:
        return sum(self.signatures.values())

    @property
    def ok(self) -> bool:
        return not self.signatures

    @property
    def rate(self) -> float:
        return self.frames / self.elapsed if self.elapsed else 0.0

    def add(self, finding: Finding) -> None:
        self.signatures[finding.signature] += 1
        if self.signatures[finding.signature] <= 3:
            self.findings.append(finding)

    def memory(self, warmup: float) -> tuple[float, float, float]:
        """(peak MB of the first half after warm-up, peak MB of the second half, growth)."""
        if not self.rss:
            return 0.0, 0.0, 0.0
        total = max(self.frames, 1)
        start = warmup * total
        middle = start + (total - start) / 2
        first = [mb for frames, mb in self.rss if start <= frames < middle]
        second = [mb for frames, mb in self.rss if frames >= middle]
        if not first or not second:
            return 0.0, 0.0, 0.0
        return max(first), max(second), max(second) - max(first)

    def summary(self, config: FuzzConfig) -> str:
        latencies = sorted(self.canary_latencies) or [0.0]
        first, second, growth = self.memory(config.warmup)
        lines = [
            f"fuzz seed {self.seed}: {self.frames} frames in {self.elapsed:.1f} s "
            f"({self.rate:,.0f} frames/s), {self.answers} answers, {self.syncs} syncs, "
            f"{self.handshakes} handshakes, {self.reconnects} reconnects",
            f"canary: {len(self.canary_latencies)} heartbeats, p50 "
            f"{1000 * latencies[len(latencies) // 2]:.1f} ms, p99 "
            f"{1000 * latencies[int(len(latencies) * 0.99)]:.1f} ms, max "
            f"{1000 * latencies[-1]:.1f} ms; processor probes: {len(self.probe_lags)}, max lag "
            f"{max(self.probe_lags, default=0.0):.1f} s",
            f"memory: RSS peak {first:.1f} MB (first half) -> {second:.1f} MB (second half), "
            f"growth {growth:+.1f} MB (limit {config.max_growth_mb} MB); last "
            f"{self.rss[-1][1] if self.rss else 0:.1f} MB",
            f"kinds: {dict(sorted(self.kinds.items()))}",
            f"handshake statuses: {dict(sorted(self.handshake_statuses.items()))}",
            f"warnings logged: {dict(self.warnings)}",
            f"findings: {self.findings_total} ({len(self.signatures)} kinds)",
        ]
        for signature, count in self.signatures.most_common():
            example = next(f for f in self.findings if f.signature == signature)
            lines.append(f"  {count} x {example}".replace("<seed>", str(self.seed)))
        if self.findings_total:
            lines.append(f"replay the run: python -m benchmarks.fuzz --seed {self.seed} ...")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ the CSMS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class CsmsProcess:
    """``chargestream run`` in a fresh data directory, its log in ``log_path``."""

    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "csms.log"
        self.token = secrets.token_urlsafe(24)
        self.ocpp_port = free_port()
        self.api_port = free_port()
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._partial = b""

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def start(self) -> None:
        env = {
            **os.environ,
            **GENEROUS_LIMITS,
            "CHARGESTREAM_RUN_UI": "false",
            "CHARGESTREAM_LOG_LEVEL": "WARNING",
            "CHARGESTREAM_LOG_FORMAT": "json",
            "CHARGESTREAM_LOG_SYNC": "normal",
            "CHARGESTREAM_API_TOKEN": self.token,
            "CHARGESTREAM_NODE_ID": "fuzz",
            "CHARGESTREAM_MAX_FRAME_BYTES": str(MAX_FRAME_BYTES),
            "CHARGESTREAM_COMMAND_TIMEOUT": "2",
            "CHARGESTREAM_OCPP_TLS_PORT": "0",
            **self.extra_env,
        }
        command = [
            sys.executable,
            "-m",
            "chargestream.app.cli",
            "run",
            "--ocpp-port",
            str(self.ocpp_port),
            "--api-port",
            str(self.api_port),
            "--data-dir",
            str(self.data_dir),
        ]
        # the CA the CSMS would create (and announce on stdout, which the fuzz would count
        # as a finding: it reads every line as a log record) made here, beforehand
        await asyncio.to_thread(with_pki, Settings(data_dir=self.data_dir, ocpp_tls_port=0))
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.api_url, timeout=5) as api:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"the CSMS exited with {self.process.returncode}: "
                        f"{self.log_path.read_text(errors='replace')[-2000:]}"
                    )
                with suppress(httpx.HTTPError):
                    if (await api.get("/healthz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError("the CSMS did not answer /healthz within 60 s")
                await asyncio.sleep(0.1)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_mb(self) -> float | None:
        if self.process is None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return None

    def new_log_lines(self) -> list[bytes]:
        """Complete lines the CSMS logged since the last call."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                chunk = log.read()
        except OSError:
            return []
        self._log_offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        return [line for line in lines if line.strip()]

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 60
            while self.process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def log_problems(lines: list[bytes], warnings: Counter[str]) -> list[Finding]:
    """Findings in the CSMS's JSON log lines: errors, tracebacks, bad warnings, non-JSON."""
    found: list[Finding] = []
    block: list[bytes] = []  # consecutive lines that are no log record: a traceback, say

    def flush() -> None:
        if block:
            text = b"\n".join(block).decode(errors="replace")
            last = block[-1].decode(errors="replace").strip()
            found.append(Finding("output", f"not a log record, ending {last[:200]!r}:\n{text}"))
            block.clear()

    for raw in lines:
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError:
            entry = None
        if not isinstance(entry, dict):
            block.append(raw)
            continue
        flush()
        level, event = str(entry.get("level")), str(entry.get("event"))
        if level == "warning":
            warnings[event] += 1
        if level in ("error", "critical") or "exc" in entry or event in BAD_WARNINGS:
            shown = raw if len(raw) <= 3000 else raw[:800] + b" ... " + raw[-2200:]  # the cause
            found.append(Finding("log", f"{level} {event}: {shown.decode(errors='replace')}"))
    flush()
    return found


# ------------------------------------------------------------------------------ the run


class Fuzz:
    def __init__(self, config: FuzzConfig, csms: CsmsProcess, report: FuzzReport) -> None:
        self.config = config
        self.csms = csms
        self.report = report
        self.done = asyncio.Event()
        self.api = httpx.AsyncClient(base_url=csms.api_url, headers=csms.headers, timeout=30)

    async def prepare(self) -> None:
        """The protected charge point, and the lenient one (worker 0)."""
        for cp, body in ((PROTECTED, {"password": PASSWORD}), ("FUZZ-0", {"lenient": True})):
            response = await self.api.put(f"/api/v1/charge-points/{cp}", json=body)
            if response.status_code != 200:
                raise RuntimeError(f"PUT {cp}: {response.status_code} {response.text}")

    async def run(self) -> None:
        config = self.config
        started = time.monotonic()
        share = [config.frames // config.workers] * config.workers
        share[0] += config.frames - sum(share)
        workers = [
            asyncio.create_task(FrameWorker(self, number, share[number]).run())
            for number in range(config.workers)
        ]
        helpers = [
            asyncio.create_task(self.canary()),
            asyncio.create_task(self.handshakes()),
            asyncio.create_task(self.monitor(started)),
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            self.report.elapsed = time.monotonic() - started
            self.done.set()
            await asyncio.gather(*helpers, return_exceptions=False)
            for task in workers:
                task.cancel()
            await self.api.aclose()

    # -- the canary and the processor probes

    async def canary(self) -> None:
        config, report = self.config, self.report
        probes: list[asyncio.Task[None]] = []
        number = 0
        last_probe = time.monotonic()
        websocket = await open_cp(self.csms, CANARY, "127.0.0.2")
        try:
            while not self.done.is_set():
                number += 1
                sent = time.monotonic()
                try:
                    await websocket.send(f'[2,"c-{number}","Heartbeat",{{}}]')
                    answer = await _recv_for(websocket, f"c-{number}", config.canary_deadline)
                except (TimeoutError, ConnectionClosed) as error:
                    report.add(
                        Finding(
                            "canary",
                            f"Heartbeat {number} not answered within "
                            f"{config.canary_deadline} s ({error!r})",
                        )
                    )
                    with suppress(Exception):
                        await websocket.close()
                    websocket = await open_cp(self.csms, CANARY, "127.0.0.2")
                    continue
                report.canary_latencies.append(time.monotonic() - sent)
                if answer.message_type != 3:
                    report.add(Finding("canary", f"Heartbeat {number} got {answer}"))
                if time.monotonic() - last_probe >= config.probe_every:
                    last_probe = time.monotonic()
                    probes.append(asyncio.create_task(self.probe(websocket, number)))
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.done.wait(), config.canary_interval)
            # the views must catch up with everything, within derive_deadline
            if probes:
                print("waiting for the processors to derive the last probes", flush=True)
            await asyncio.gather(*probes)
            if not any(f.what == "processor" for f in report.findings):
                await self.probe(websocket, number + 1)
        finally:
            with suppress(Exception):
                await websocket.close()

    async def probe(self, websocket: ClientConnection, number: int) -> None:
        """A StatusNotification whose info must appear in the charge point's state."""
        marker = f"probe-{number}"
        frame = [
            2,
            f"p-{number}",
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "info": marker},
        ]
        sent = time.monotonic()
        limit = self.config.derive_deadline
        try:
            await websocket.send(orjson.dumps(frame).decode())
        except ConnectionClosed:
            return  # the canary reconnects; the next probe counts
        while True:
            with suppress(httpx.HTTPError):
                response = await self.api.get(f"/api/v1/charge-points/{CANARY}")
                if response.status_code == 200 and marker in response.text:
                    self.report.probe_lags.append(time.monotonic() - sent)
                    return
                if response.status_code >= 500:
                    self.report.add(
                        Finding("api", f"GET charge point: {response.status_code} {response.text}")
                    )
            if time.monotonic() - sent > limit:
                self.report.add(
                    Finding(
                        "processor",
                        f"{marker} (a StatusNotification of the canary) was not derived within "
                        f"{limit:.0f} s: the processors stopped deriving",
                    )
                )
                return
            await asyncio.sleep(0.5)

    # -- handshakes

    async def handshakes(self) -> None:
        config, report = self.config, self.report
        total = int(config.frames * config.handshakes_per_frame)
        fuzzer = HandshakeFuzzer(config.seed, protected=PROTECTED, password=PASSWORD)
        for index in range(total):
            # spread over the run: case i once i / handshakes_per_frame frames were sent
            while report.frames < index / config.handshakes_per_frame and not self.done.is_set():
                await asyncio.sleep(0.05)
            case = fuzzer.case(index)
            problem, status = await try_handshake(self.csms, case, config.canary_deadline)
            report.handshakes += 1
            report.handshake_statuses[f"{case.kind}:{status}"] += 1
            if problem:
                report.add(Finding("handshake", problem, case.describe(), f"handshake:{index}"))

    # -- progress, memory and the log

    async def monitor(self, started: float) -> None:
        config, report = self.config, self.report
        last_print = last_frames = 0
        last_time = started
        while True:
            rss = self.csms.rss_mb()
            if rss is not None:
                report.rss.append((report.frames, rss))
            for finding in log_problems(self.csms.new_log_lines(), report.warnings):
                report.add(finding)
            if not self.csms.alive():
                code = self.csms.process.returncode if self.csms.process else None
                report.add(Finding("crash", f"the CSMS exited (code {code})"))
                self.done.set()
            now = time.monotonic()
            if config.progress_every and now - last_print >= config.progress_every:
                rate = (report.frames - last_frames) / max(now - last_time, 1e-9)
                worst = max(report.canary_latencies[-200:], default=0.0)
                print(
                    f"{now - started:7.1f} s  frames {report.frames:>9,}/{config.frames:,}  "
                    f"{rate:7,.0f}/s  answers {report.answers:,}  handshakes {report.handshakes}"
                    f"  findings {report.findings_total}  canary max {1000 * worst:.0f} ms"
                    f"  RSS {rss or 0:.0f} MB",
                    flush=True,
                )
                last_print, last_frames, last_time = int(now), report.frames, now
            if self.done.is_set():
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), 0.5)


class FrameWorker:
    """One charge point connection sending its stream of cases."""

    def __init__(self, fuzz: Fuzz, number: int, frames: int) -> None:
        self.fuzz = fuzz
        self.config = fuzz.config
        self.report = fuzz.report
        self.number = number
        self.frames = frames
        self.cp = f"FUZZ-{number}"
        self.stream = f"w{number}"
        self.source = f"127.0.0.{10 + number % 240}"
        self.fuzzer = FrameFuzzer(
            self.config.seed,
            self.stream,
            max_frame_bytes=MAX_FRAME_BYTES,
            hard_limit=HARD_LIMIT,
            lenient=number == 0,
            avoid=self.config.avoid,
        )
        self.syncs = 0

    async def run(self) -> None:
        websocket = await open_cp(self.fuzz.csms, self.cp, self.source)
        batch: list[FrameCase] = []
        try:
            for index in range(self.frames):
                if self.fuzz.done.is_set():  # the CSMS died
                    return
                case = self.fuzzer.case(index)
                if case.expect.close is not None or case.expect.answers is None:
                    websocket = await self.exchange(websocket, batch)
                    batch = []
                    websocket = await self.exchange(websocket, [case])
                    continue
                batch.append(case)
                if len(batch) >= self.config.batch:
                    websocket = await self.exchange(websocket, batch)
                    batch = []
            websocket = await self.exchange(websocket, batch)
        finally:
            with suppress(Exception):
                await websocket.close()

    def finding(self, what: str, detail: str, case: FrameCase | None = None) -> None:
        self.report.add(
            Finding(
                what,
                f"{self.cp}: {detail}",
                case.describe() if case else "",
                f"{self.stream}:{case.index}" if case else "",
            )
        )

    async def exchange(
        self, websocket: ClientConnection, cases: list[FrameCase]
    ) -> ClientConnection:
        """Send ``cases`` and a sync Heartbeat; check every answer up to the sync's."""
        if not cases:
            return websocket
        for case in cases:
            self.report.kinds[case.kind] += 1
            try:
                await send_case(websocket, case)
            except ConnectionClosed as closed:
                self.finding("closed", f"connection closed while sending: {closed!r}", case)
                return await self.reconnect()
            self.report.frames += 1
        closing = cases[-1].expect.close
        if closing is not None:
            return await self.expect_close(websocket, cases[-1], closing)
        self.syncs += 1
        sync_id = f"sync-{self.stream}-{self.syncs}"
        deadline = time.monotonic() + self.config.answer_deadline
        received: list[str] = []
        try:
            await websocket.send(f'[2,"{sync_id}","Heartbeat",{{}}]')
            while True:
                text = await asyncio.wait_for(websocket.recv(), deadline - time.monotonic())
                assert isinstance(text, str)  # the client checks UTF-8; binary is a finding
                received.append(text)
                if f'"{sync_id}"' in text[:80]:
                    break
        except (TimeoutError, ConnectionClosed) as error:
            self.finding(
                "hang" if isinstance(error, TimeoutError) else "closed",
                f"no sync answer within {self.config.answer_deadline} s after {len(cases)} frames "
                f"({error!r}); {len(received)} answers came",
                cases[0] if len(cases) == 1 else None,
            )
            for case in cases[:20]:
                self.finding("batch", "in the batch without an answer", case)
            return await self.reconnect()
        self.report.syncs += 1
        self.report.answers += len(received)
        self.match(cases, received[:-1])
        return websocket

    def match(self, cases: list[FrameCase], received: list[str]) -> None:
        """Answers in order: exactly the ones owed, each right for its frame."""
        answers = []
        for text in received:
            try:
                answers.append(read_answer(text))
            except ValueError as error:
                self.finding("answer", f"{error}: {text[:300]!r}")
                return
        position = 0
        for case in cases:
            expect = case.expect
            if expect.answers == 0:
                continue
            if position >= len(answers):
                if expect.answers == 1:
                    self.finding("answer", "a frame that owed an answer got none", case)
                continue
            answer = answers[position]
            problem = check_answer(expect, answer, case.data)
            if problem is None:
                position += 1
                continue
            if expect.answers is None:  # optional, and this answer is not its
                continue
            self.finding("answer", f"{problem} (answer {received[position][:300]!r})", case)
            position += 1
        for extra in received[position:]:
            owed = [c for c in cases if c.expect.answers != 0]
            self.finding(
                "answer",
                f"an answer nobody was owed: {extra[:300]!r} (batch of {len(cases)}, "
                f"{len(owed)} owed answers)",
                cases[0] if len(cases) == 1 else None,
            )

    async def expect_close(
        self, websocket: ClientConnection, case: FrameCase, code: int
    ) -> ClientConnection:
        try:
            while True:
                text = await asyncio.wait_for(websocket.recv(), self.config.answer_deadline)
                self.finding("answer", f"answered {text!r:.300} instead of closing", case)
        except TimeoutError:
            self.finding("hang", f"connection not closed with {code}", case)
        except ConnectionClosed as closed:
            got = closed.rcvd.code if closed.rcvd else None
            if got != code:
                self.finding("closed", f"closed with {got}, expected {code}", case)
        return await self.reconnect()

    async def reconnect(self) -> ClientConnection:
        self.report.reconnects += 1
        return await open_cp(self.fuzz.csms, self.cp, self.source)


# ------------------------------------------------------------------------------ wire helpers


async def open_cp(csms: CsmsProcess, cp: str, source: str) -> ClientConnection:
    """A charge point connection that sent an accepted BootNotification."""
    websocket = await connect(
        f"{csms.ocpp_url}/{cp}",
        subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
        compression=None,
        max_size=None,
        ping_interval=None,
        open_timeout=30,
        local_addr=(source, 0),
    )
    boot = {"chargePointVendor": "chargestream", "chargePointModel": "fuzz"}
    await websocket.send(orjson.dumps([2, "boot", "BootNotification", boot]).decode())
    answer = await _recv_for(websocket, "boot", 30)
    if answer.message_type != 3 or answer.payload.get("status") != "Accepted":
        raise RuntimeError(f"{cp}: BootNotification not accepted: {answer}")
    return websocket


async def _recv_for(websocket: ClientConnection, message_id: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        text = await asyncio.wait_for(websocket.recv(), deadline - time.monotonic())
        answer = read_answer(text if isinstance(text, str) else text.decode())
        if answer.message_id == message_id:
            return answer


async def send_case(websocket: ClientConnection, case: FrameCase) -> None:
    if isinstance(case.data, str):
        await websocket.send(case.data)
    else:  # binary frame, or raw bytes in a text frame (invalid UTF-8)
        await websocket.send(case.data, text=not case.binary)


def ws_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A masked client frame (RFC 6455)."""
    mask = random.randbytes(4)
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    elif length < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return header + mask + masked


async def read_ws_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readexactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return head[0] & 0x0F, await reader.readexactly(length)


async def try_handshake(
    csms: CsmsProcess, case: HandshakeCase, deadline: float
) -> tuple[str | None, int]:
    """Send ``case``; (why the gateway's reaction is wrong or None, the HTTP status or 0)."""
    source = f"127.0.1.{1 + case.index % 64}"
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", csms.ocpp_port, local_addr=(source, 0)
    )
    status = 0
    try:
        try:
            writer.write(case.request)
            if case.kind == "garbage":
                writer.write_eof()
            await writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            pass
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), deadline)
        except TimeoutError:
            return f"no response and no close within {deadline} s", -1
        except (asyncio.IncompleteReadError, ConnectionResetError):
            head = b""
        except asyncio.LimitOverrunError:
            return "an HTTP response head over 64 KiB", -1
        if head:
            parts = head.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                return f"not an HTTP response: {head[:200]!r}", -1
            status = int(parts[1])
        if status not in case.allowed:
            return f"status {status}, allowed {sorted(case.allowed)}: {head[:300]!r}", status
        if status == 429 and b"retry-after" not in head.lower():
            return "429 without Retry-After", status
        if status == 101 and case.then_call:
            writer.write(ws_frame(b'[2,"hs","Heartbeat",{}]'))
            await writer.drain()
            try:
                while True:
                    opcode, payload = await asyncio.wait_for(read_ws_frame(reader), deadline)
                    if opcode == 1:
                        break
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionResetError) as error:
                return f"accepted, but a Heartbeat got no answer ({error!r})", status
            answer = read_answer(payload.decode())
            if answer.message_type != 3 or answer.message_id != "hs":
                return f"accepted, but a Heartbeat got {payload[:200]!r}", status
            writer.write(ws_frame(b"\x03\xe8", opcode=8))  # close 1000
        return None, status
    finally:
        writer.close()
        with suppress(Exception):
            await writer.wait_closed()


# ------------------------------------------------------------------------------ entry points


async def run_fuzz(
    config: FuzzConfig, workdir: Path, on_csms: Callable[[CsmsProcess], None] | None = None
) -> FuzzReport:
    """Start a CSMS in ``workdir``, fuzz it, stop it; the report lists every finding."""
    report = FuzzReport(config.seed)
    csms = CsmsProcess(workdir, config.extra_env)
    await csms.start()
    if on_csms is not None:
        on_csms(csms)
    try:
        fuzz = Fuzz(config, csms, report)
        await fuzz.prepare()
        await fuzz.run()
    finally:
        report.exit_code = await csms.stop()
        for finding in log_problems(csms.new_log_lines(), report.warnings):
            report.add(finding)
    if report.exit_code != 0:
        report.add(Finding("crash", f"the CSMS exited with {report.exit_code} on SIGTERM"))
    first, second, growth = report.memory(config.warmup)
    if growth > config.max_growth_mb:
        report.add(
            Finding(
                "memory",
                f"RSS peak grew {growth:.1f} MB between the halves of the run "
                f"({first:.1f} -> {second:.1f} MB, limit {config.max_growth_mb} MB)",
            )
        )
    return report


async def replay(config: FuzzConfig, workdir: Path, target: str) -> FuzzReport:
    """Send one case (``w3:1234`` or ``handshake:17``) to a fresh CSMS."""
    stream, _, raw_index = target.partition(":")
    index = int(raw_index)
    report = FuzzReport(config.seed)
    csms = CsmsProcess(workdir, config.extra_env)
    await csms.start()
    try:
        fuzz = Fuzz(config, csms, report)
        await fuzz.prepare()
        if stream == "handshake":
            case = HandshakeFuzzer(config.seed, protected=PROTECTED, password=PASSWORD).case(index)
            print(case.describe(2000))
            problem, status = await try_handshake(csms, case, config.canary_deadline)
            print(f"status {status}: {problem or 'as allowed'}")
            if problem:
                report.add(Finding("handshake", problem, case.describe()))
        else:
            worker = FrameWorker(fuzz, int(stream.lstrip("w")), 1)
            frame_case = worker.fuzzer.case(index)
            print(frame_case.describe(2000))
            print(f"expect: {frame_case.expect}")
            websocket = await open_cp(csms, worker.cp, worker.source)
            websocket = await worker.exchange(websocket, [frame_case])
            await websocket.close()
        await fuzz.api.aclose()
        await asyncio.sleep(1)  # let the processor derive what came
    finally:
        report.exit_code = await csms.stop()
        for finding in log_problems(csms.new_log_lines(), report.warnings):
            report.add(finding)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, help="default: a fresh random seed, printed")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-growth-mb", type=float, default=32.0)
    parser.add_argument("--replay", metavar="STREAM:INDEX", help="send one case, e.g. w3:1234")
    parser.add_argument("--keep-data", action="store_true", help="keep the data and the log")
    parser.add_argument(
        "--avoid",
        action="append",
        default=[],
        choices=sorted(KNOWN_ISSUES),
        help="leave out the inputs of a known finding",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="CSMS setting"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
    config = FuzzConfig(
        frames=args.frames,
        seed=seed,
        workers=args.workers,
        batch=args.batch,
        max_growth_mb=args.max_growth_mb,
        avoid=frozenset(args.avoid),
        extra_env=dict(item.split("=", 1) for item in args.env),
    )
    what = f"case {args.replay}" if args.replay else f"{args.frames:,} frames"
    print(f"fuzz seed {seed} ({what}, {args.workers} connections)", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="chargestream-fuzz-"))
    if args.replay:
        report = asyncio.run(replay(config, workdir, args.replay))
    else:
        report = asyncio.run(run_fuzz(config, workdir))
    print(report.summary(config))
    if args.keep_data or not report.ok:
        print(f"data and CSMS log kept in {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
