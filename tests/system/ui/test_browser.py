"""The dashboard end to end, in Debian's headless Chromium driven by Playwright.

A real embedded CSMS with simulated charge points runs in a background
thread, the dashboard runs as its own process (``chargestream.app.dashboard.start_ui``), and
the browser signs in, opens every page, and sends a ChangeConfiguration to a
simulated charge point. Any Streamlit exception or error box fails the test, and so does
anything the dashboard's Content-Security-Policy blocks (it must not break a page).

A hostile charge point then puts Markdown and HTML into every string it controls (its
id, BootNotification, a status, an action name): the pages must show them as text, and
the browser must not even try to reach the address they name (a listener on a loopback
port, and the browser's own request log, both stay empty).

Screenshots go to tmp_path; with ``CHARGESTREAM_SCREENSHOTS=1`` to
docs/screenshots/ (the committed ones shown in the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from ocpp.v16 import call
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from chargestream.app.dashboard import start_ui, stop_ui
from chargestream.app.embedded import EmbeddedCsms
from chargestream.domain.settings import Settings
from chargestream.simulator import FleetConfig, run_fleet
from chargestream.ui.operators import DEFAULT_OPERATOR, ensure_default_operator
from chargestream.ui.text import visible
from tests.conftest import free_port, make_settings
from tests.ocpp_client import TestChargePoint, charge_point

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
STATIONS = 6
DEPOT = "DEPOT-A-01"  # replays the last 24 h, then stays connected
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)  # assertions poll as long as actions wait (a loaded CI)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)


@dataclass
class Stack:
    ui_url: str
    api_url: str
    ocpp_url: str
    api_headers: dict[str, str]  # the API's bearer token
    password: str
    charge_point: str  # a simulated charge point that is charging
    transaction_id: int  # a finished session of DEPOT


# -- a charge point that sends the last 24 hours, queued with their timestamps

# (connector, start hours ago, charging minutes); None: still charging
SESSIONS = [
    (1, 22.5, 70),
    (2, 21.0, 60),
    (1, 19.0, 95),
    (2, 16.5, 80),
    (1, 14.8, 40),
    (1, 11.0, 120),
    (2, 9.0, 100),
    (1, 6.5, 55),
    (2, 3.7, 45),
    (1, 0.8, None),
]
OUTAGES = [(2, 5.5, 40, "Faulted", "GroundFailure"), (1, 13.2, 35, "Unavailable", "NoError")]
SAMPLE = timedelta(minutes=5)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _day_of_statuses(now: datetime) -> list[tuple[datetime, int, str, str]]:
    """(time, connector, status, error code) over the last 24 h, oldest first."""
    events = [(now - timedelta(hours=24), c, "Available", "NoError") for c in (0, 1, 2)]
    for connector, hours_ago, minutes in SESSIONS:
        start = now - timedelta(hours=hours_ago)
        events.append((start, connector, "Preparing", "NoError"))
        events.append((start + timedelta(minutes=2), connector, "Charging", "NoError"))
        if minutes is not None:
            stop = start + timedelta(minutes=2 + minutes)
            events.append((stop - timedelta(minutes=12), connector, "SuspendedEV", "NoError"))
            events.append((stop, connector, "Finishing", "NoError"))
            events.append((stop + timedelta(minutes=3), connector, "Available", "NoError"))
    for connector, hours_ago, minutes, status, error in OUTAGES:
        start = now - timedelta(hours=hours_ago)
        events.append((start, connector, status, error))
        events.append((start + timedelta(minutes=minutes), connector, "Available", "NoError"))
    return sorted(events)


def _sample(at: datetime, energy_wh: float, power_w: float, soc: float) -> dict[str, Any]:
    voltage = 360 + 0.8 * soc
    values = {
        "Energy.Active.Import.Register": (energy_wh, "Wh"),
        "Power.Active.Import": (power_w, "W"),
        "Current.Import": (power_w / voltage, "A"),
        "Voltage": (voltage, "V"),
        "SoC": (soc, "Percent"),
        "Temperature": (24 + 14 * power_w / 50_000, "Celsius"),
        "Current.Offered": (125, "A"),
        "Power.Offered": (50_000, "W"),
    }
    return {
        "timestamp": _stamp(at),
        "sampledValue": [
            {"value": f"{value:.1f}", "measurand": measurand, "unit": unit}
            for measurand, (value, unit) in values.items()
        ],
    }


async def _charge(
    cp: TestChargePoint, connector: int, start: datetime, minutes: float | None, now: datetime
) -> None:
    """One session: StartTransaction, a MeterValues every 5 min, StopTransaction."""
    meter = 1_000_000 + connector * 10_000
    begin = start + timedelta(minutes=2)
    result = await cp.call(
        call.StartTransaction(
            connector_id=connector, id_tag="04A2B3C4", meter_start=meter, timestamp=_stamp(begin)
        )
    )
    transaction = result.transaction_id
    end = begin + timedelta(minutes=minutes) if minutes is not None else now
    soc_start = 15.0 + 5 * connector
    at, energy, soc = begin, 0.0, soc_start
    while at + SAMPLE <= end:
        at += SAMPLE
        power = 48_000.0 if soc < 60 else max(4_000.0, 48_000.0 * (100 - soc) / 40)
        energy += power * SAMPLE.total_seconds() / 3600
        soc = min(100.0, soc_start + energy / 600)
        await cp.call(
            call.MeterValues(
                connector_id=connector,
                transaction_id=transaction,
                meter_value=[_sample(at, meter + energy, power, soc)],
            )
        )
    if minutes is not None:
        await cp.call(
            call.StopTransaction(
                meter_stop=int(meter + energy),
                timestamp=_stamp(end),
                transaction_id=transaction,
                reason="EVDisconnected",
            )
        )


async def _replay_day(cp: TestChargePoint, now: datetime) -> None:
    await cp.call(
        call.BootNotification(
            charge_point_vendor="ABB",
            charge_point_model="Terra 54",
            charge_point_serial_number="T54-A-0001",
            firmware_version="1.8.3",
            meter_type="DC meter",
        )
    )
    sessions = {
        (connector, round((now - timedelta(hours=hours)).timestamp())): minutes
        for connector, hours, minutes in SESSIONS
    }
    for at, connector, status, error in _day_of_statuses(now):
        await cp.call(
            call.StatusNotification(
                connector_id=connector, error_code=error, status=status, timestamp=_stamp(at)
            )
        )
        key = (connector, round(at.timestamp()))
        if status == "Preparing" and key in sessions:
            await _charge(cp, connector, at, sessions[key], now)


def _wait_until(probe: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s")


class _BackgroundCsms:
    """EmbeddedCsms, a simulated fleet and DEPOT on an event loop in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.csms = EmbeddedCsms(settings)
        self.stop_stations = asyncio.Event()
        self.replayed = threading.Event()
        self.stations: Future[Any] | None = None

    def start(self) -> Settings:
        """Start the CSMS; the settings with the ports actually bound."""
        self.thread.start()
        addresses = self._call(self.csms.start())
        return replace(self.settings, ocpp_port=addresses.ocpp_port, api_port=addresses.api_port)

    def start_stations(self, ocpp_port: int) -> None:
        url = f"ws://127.0.0.1:{ocpp_port}/ocpp"
        fleet = FleetConfig(
            url=url,
            stations=STATIONS,
            meter_interval=1.0,
            session_minutes=(0.15, 0.4),
            idle_seconds=(1.0, 3.0),
            fault_rate=0.0,
            reconnect_rate=0.0,
            seed=7,
            stop_grace=2.0,
        )
        self.stations = asyncio.run_coroutine_threadsafe(self._stations(fleet, url), self.loop)

    async def _stations(self, fleet: FleetConfig, url: str) -> None:
        await asyncio.gather(run_fleet(fleet, self.stop_stations), self._depot(url))

    async def _depot(self, url: str) -> None:
        async with charge_point(url, DEPOT) as cp:
            await _replay_day(cp, datetime.now(UTC))
            self.replayed.set()
            await self.stop_stations.wait()

    def stop(self) -> None:
        if self.stations is not None:
            self.loop.call_soon_threadsafe(self.stop_stations.set)
            with contextlib.suppress(Exception):
                self.stations.result(30)
        self._call(self.csms.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("ui-e2e") / "data"
    settings = make_settings(
        data_dir,
        accept_unknown_id_tags=True,
        ui_port=free_port(),
        log_level="WARNING",
        calls_per_second=0,  # DEPOT sends its queued day as fast as it can
    )
    password = ensure_default_operator(data_dir)
    assert password is not None
    background = _BackgroundCsms(settings)
    ui = None
    try:
        running = background.start()
        api_url = f"http://127.0.0.1:{running.api_port}"
        api_headers = {"Authorization": f"Bearer {running.api_token}"}
        with httpx.Client(base_url=api_url, headers=api_headers) as api:
            _operator_data(api)
            background.start_stations(running.ocpp_port)
            assert background.replayed.wait(60), "DEPOT did not replay its day"
            charging = _wait_until(
                lambda: _charging_station(api), "a simulated charge point charging"
            )
            sessions = api.get(f"/api/v1/charge-points/{DEPOT}/sessions").json()
            finished = max((s for s in sessions if s["stop_time"]), key=lambda s: s["energy_kwh"])[
                "transaction_id"
            ]
        ui = start_ui(running)
        ui_url = f"http://127.0.0.1:{running.ui_port}"
        _wait_until(lambda: _healthy(f"{ui_url}/_stcore/health"), "the dashboard")
        ocpp_url = f"ws://127.0.0.1:{running.ocpp_port}/ocpp"
        yield Stack(ui_url, api_url, ocpp_url, api_headers, password, charging, finished)
    finally:
        if ui is not None:
            stop_ui(ui)
        background.stop()


def _operator_data(api: httpx.Client) -> None:
    """What an operator sets up before charge points connect."""
    writes = [
        ("/api/v1/id-tags/04A2B3C4", {"status": "Accepted"}),
        ("/api/v1/id-tags/04A2B3C5", {"status": "Accepted", "expiry_date": "2030-01-01T00:00:00Z"}),
        ("/api/v1/id-tags/LOST-0007", {"status": "Blocked"}),
        ("/api/v1/id-tags/FLEET-CARD-12", {"status": "Accepted", "parent_id_tag": "04A2B3C4"}),
        (
            "/api/v1/alert-rules/hot-connector",
            {"measurand": "Temperature", "operator": ">", "threshold": 35, "severity": "critical"},
        ),
        (
            "/api/v1/alert-rules/low-voltage",
            {"measurand": "Voltage", "operator": "<", "threshold": 200},
        ),
        (
            f"/api/v1/charge-points/{DEPOT}",
            {"display_name": "Depot A bay 1", "location": "Depot A"},
        ),
        ("/api/v1/charge-points/SIM-00001", {"display_name": "Harbour 1", "location": "Harbour"}),
        ("/api/v1/charge-points/SIM-00002", {"display_name": "Harbour 2", "location": "Harbour"}),
    ]
    for path, body in writes:
        api.put(path, json=body).raise_for_status()


def _charging_station(api: httpx.Client) -> str | None:
    for cp in api.get("/api/v1/charge-points").json():
        if cp["charge_point_id"] == DEPOT:
            continue
        connectors = (cp.get("state") or {}).get("connectors") or []
        if any(c["status"] == "Charging" for c in connectors):
            return cp["charge_point_id"]
    return None


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).text == "ok"
    except httpx.HTTPError:
        return False


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("CHARGESTREAM_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def test_sign_in_open_every_page_and_change_configuration(stack: Stack, shots: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            blocked = _policy_violations(page)
            _walk_through(page, stack, shots)
            assert blocked == [], blocked  # the security headers break nothing on any page
        finally:
            browser.close()


def test_reports_page_uptime_charts_csv_and_printable_report(stack: Stack, shots: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{stack.ui_url}/reports")
            page.get_by_role("textbox", name="Operator").fill(DEFAULT_OPERATOR)
            page.get_by_role("textbox", name="Password").fill(stack.password)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
            _settled(page)
            expect(page.get_by_text("Uptime (NEVI)")).to_be_visible()
            expect(page.locator("td", has_text=DEPOT).first).to_be_attached()
            with page.expect_download() as download:
                page.get_by_role("button", name="Availability as CSV").click()
            csv = Path(download.value.path()).read_text()
            assert csv.startswith("level,site_id,charge_point_id,connector_id,"), csv[:200]
            assert f"port,,{DEPOT},1," in csv
            _screenshot(page, shots, "reports")
            page.get_by_role("tab", name="Utilization").click()
            expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
            _screenshot(page, shots, "reports-utilization")
            page.get_by_role("tab", name="Monthly report").click()
            expect(page.get_by_text("Availability report,")).to_be_visible()
        finally:
            browser.close()


def _policy_violations(page: Page) -> list[str]:
    """Console errors of what the Content-Security-Policy blocked, collected from now on."""
    blocked: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("console", record)
    return blocked


def _walk_through(page: Page, stack: Stack, shots: Path) -> None:
    page.goto(f"{stack.ui_url}/remote_control")  # the first request the server ever gets
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", name="Remote control")).to_have_count(0)
    _screenshot(page, shots, "sign-in")

    page.get_by_role("textbox", name="Operator").fill(DEFAULT_OPERATOR)
    page.get_by_role("textbox", name="Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong operator name or password.")).to_be_visible()
    page.get_by_role("textbox", name="Password").fill(stack.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Remote control")).to_be_visible()  # as asked
    _open(page, "Fleet")

    # the overview refreshes itself (a fragment), then live refresh is switched off
    updated = page.get_by_text("Updated ")
    expect(updated).to_be_visible()
    first = updated.inner_text()
    expect(updated).not_to_have_text(first, timeout=TIMEOUT_MS)
    _pick(page, "Live refresh", "Off")
    _screenshot(page, shots, "fleet")

    _open(page, "Charge point")
    _pick(page, "Charge point", DEPOT)
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
    _screenshot(page, shots, "charge-point")
    page.get_by_role("tab", name="Frames").click()
    _pick(page, "Types", "CALL")
    expect(page.get_by_text("Frame as sent")).to_be_visible()
    _screenshot(page, shots, "frame-inspector")

    _open(page, "Charging history")
    _pick(page, "Charge point", "All charge points")
    expect(page.get_by_text("Sessions on this page")).to_be_visible()
    _screenshot(page, shots, "charging-history")

    _open(page, "Session analysis")
    page.get_by_role("spinbutton", name="Transaction id").fill(str(stack.transaction_id))
    page.get_by_role("spinbutton", name="Transaction id").press("Enter")
    expect(page.get_by_text(f"Transaction {stack.transaction_id} · {DEPOT}")).to_be_visible()
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
    _pick(page, "Measurands", "Temperature")
    _screenshot(page, shots, "session-analysis")

    _open(page, "Alerts")
    page.get_by_role("button", name="Acknowledge all").click()
    expect(page.get_by_text("acknowledged by admin")).to_be_visible()
    _screenshot(page, shots, "alerts")

    _open(page, "Id tags")
    expect(page.locator("td", has_text="LOST-0007").first).to_be_attached()
    _screenshot(page, shots, "id-tags")

    _open(page, "Remote control")
    _pick(page, "Charge point", stack.charge_point)
    page.get_by_role("spinbutton", name="Value (seconds)").fill("120")
    page.get_by_role("spinbutton", name="Value (seconds)").press("Enter")
    _settled(page)
    page.get_by_role("button", name="Send ChangeConfiguration").click()
    expect(
        page.get_by_text(f"{stack.charge_point} answered ChangeConfiguration: Accepted")
    ).to_be_visible()
    logged = page.locator("td", has_text='{"key": "HeartbeatInterval", "value": "120"}')
    expect(logged.first).to_be_attached()
    _screenshot(page, shots, "remote-control")


def _open(page: Page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    _settled(page)


def _pick(page: Page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")  # closes a multiselect's list
    _settled(page)


def _settled(page: Page) -> None:
    """The script run (or fragment run) is over and every element has loaded."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.locator("[data-testid^='stSkeleton']")).to_have_count(0)


def _screenshot(page: Page, shots: Path, name: str) -> None:
    """Check for Streamlit errors, then save the whole page."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)
    _settled(page)
    errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    assert errors.count() == 0, f"{name}: {errors.all_inner_texts()}"
    viewport = page.viewport_size
    content = page.evaluate(
        "(() => { const main = document.querySelector(\"[data-testid='stMainBlockContainer']\");"
        " return main.getBoundingClientRect().top + main.scrollHeight; })()"
    )
    height = min(max(int(content) + 40, viewport["height"]), 2400)
    page.set_viewport_size({"width": viewport["width"], "height": height})
    _settled(page)
    page.screenshot(path=str(shots / f"{name}.png"))
    page.set_viewport_size(viewport)


# -- a hostile charge point: its strings are text, and the browser fetches nothing


class _Listener:
    """A loopback port the hostile strings point at; records every connection to it."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                with contextlib.suppress(OSError):
                    self.connections.append(connection.recv(200).decode(errors="replace"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@dataclass
class Hostile:
    charge_point_id: str
    port: int  # the listener's, which every address in the strings names
    strings: dict[str, str]  # where it appears -> what the charge point sent


def _hostile_strings(port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    return {
        "name": f"![name]({url}/name) **big**",
        "vendor": f"![vendor]({url}/vendor)",
        "model": f'<img src="{url}/model">',
        "firmware": f"[link](javascript:alert(1)) :red[x] $x^2$ <{url}/auto>",
        "serial": "`code` _it_ ~~s~~ #1",
        "info": f"![info]({url}/info)",
        "vendor_error": f"<img src={url}/vendor-error>",
        "action": f"![action]({url}/action)",
    }


async def _hostile_charge_point(stack: Stack, hostile: Hostile) -> None:
    """Connects, boots, reports a fault and sends a CALL with a hostile action, then leaves."""
    strings = hostile.strings
    async with charge_point(stack.ocpp_url, quote(hostile.charge_point_id, safe="")) as cp:
        await cp.call(
            call.BootNotification(
                charge_point_vendor=strings["vendor"],
                charge_point_model=strings["model"],
                firmware_version=strings["firmware"],
                charge_point_serial_number=strings["serial"],
            ),
            skip_schema_validation=True,  # too long for OCPP; the CSMS is lenient with it
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1,
                error_code="OtherError",
                status="Faulted",
                info=strings["info"],
                vendor_error_code=strings["vendor_error"],
            ),
            skip_schema_validation=True,
        )
        await cp._connection.send(json.dumps([2, "hostile-1", strings["action"], {}]))
        await asyncio.sleep(0.5)  # its CALLERROR (NotImplemented) is logged with the action


def test_charge_point_strings_are_text_and_fetch_nothing(stack: Stack) -> None:
    listener = _Listener()
    try:
        hostile = Hostile("EVIL *cp* `1` :red[x]", listener.port, _hostile_strings(listener.port))
        cp_path = f"/api/v1/charge-points/{quote(hostile.charge_point_id, safe='')}"
        with httpx.Client(base_url=stack.api_url, headers=stack.api_headers) as api:
            # lenient: the long strings break the schema's lengths and would be refused
            body = {"display_name": hostile.strings["name"], "lenient": True}
            api.put(cp_path, json=body).raise_for_status()
            asyncio.run(_hostile_charge_point(stack, hostile))
            _wait_until(
                lambda: (api.get(cp_path).json().get("state") or {}).get("vendor"),
                "the hostile BootNotification in the store",
            )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1400})
                page.set_default_timeout(TIMEOUT_MS)
                requests: list[str] = []
                page.on("request", lambda request: requests.append(request.url))
                blocked = _policy_violations(page)
                _sign_in(page, stack)
                _show_hostile_pages(page, hostile)
                fetched = [url for url in requests if f":{listener.port}" in url]
                assert fetched == [], fetched  # the browser did not even try
                assert blocked == [], blocked  # nothing was left for the policy to block
            finally:
                browser.close()
        time.sleep(0.5)  # a connection the browser started would have arrived by now
        assert listener.connections == []
    finally:
        listener.close()


def _sign_in(page: Page, stack: Stack) -> None:
    page.goto(stack.ui_url)
    page.get_by_role("textbox", name="Operator").fill(DEFAULT_OPERATOR)
    page.get_by_role("textbox", name="Password").fill(stack.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Fleet")).to_be_visible()
    _settled(page)


def _main_text(page: Page) -> str:
    """The main area's text as the operator reads it (invisible word joiners removed)."""
    _settled(page)
    return visible(page.get_by_test_id("stMain").inner_text())


def _no_markup_from(page: Page, hostile: Hostile) -> None:
    """No image, link or rendered markup built from the hostile strings on this page."""
    main = page.get_by_test_id("stMain")
    assert main.locator("img, iframe, object, embed").count() == 0
    hrefs = main.locator("a").evaluate_all("links => links.map(link => link.href)")
    assert not [h for h in hrefs if f":{hostile.port}" in h or "javascript" in h], hrefs
    markdown = main.locator("[data-testid='stMarkdownContainer']")
    assert markdown.locator("code, del, em, li, blockquote, .katex").count() == 0


def _show_hostile_pages(page: Page, hostile: Hostile) -> None:
    strings, cp = hostile.strings, hostile.charge_point_id
    expect(page.get_by_text("Newest open alerts")).to_be_visible()  # Markdown, one per alert
    text = _main_text(page)
    assert f"{cp} · Connector 1 faulted: OtherError" in text, text
    assert strings["info"] in text
    _no_markup_from(page, hostile)

    _open(page, "Charge point")
    _pick(page, "Charge point", cp)
    assert strings["name"] in _main_text(page)  # the display name, a subheader
    page.get_by_role("tab", name="Boot & configuration").click()
    expect(page.get_by_role("heading", name="Registration")).to_be_visible()
    text = _main_text(page)
    for where in ("name", "vendor", "model", "firmware", "serial"):  # st.table: Markdown cells
        assert strings[where] in text, (where, text)
    _no_markup_from(page, hostile)

    page.get_by_role("tab", name="Frames").click()
    _pick(page, "Actions", strings["action"])
    expect(page.get_by_text("Frame as sent")).to_be_visible()
    text = _main_text(page)
    assert f"CALLERROR {strings['action']} · CSMS → CP" in text, text
    _no_markup_from(page, hostile)

    _open(page, "Remote control")
    _pick(page, "Charge point", cp)
    assert f"{cp} is not connected right now." in _main_text(page)
    _no_markup_from(page, hostile)

    for title in ("Charging history", "Alerts", "Id tags"):
        _open(page, title)
        _no_markup_from(page, hostile)


# -- live numbers, exports, staying signed in, 24-hour axes

LIVE = "LIVE-01"  # a charge point this test charges, one MeterValues at a time
COOKIE_NAME = "chargestream_session"


def _ocpp(stack: Stack, *requests: Any) -> list[Any]:
    """Boot ``LIVE`` on a fresh connection and send ``requests``; their answers."""

    async def send() -> list[Any]:
        async with charge_point(stack.ocpp_url, LIVE) as cp:
            await cp.call(call.BootNotification(charge_point_model="T", charge_point_vendor="V"))
            return [await cp.call(request) for request in requests]

    with ThreadPoolExecutor(1) as pool:  # the sync Playwright API owns this thread's loop
        return pool.submit(asyncio.run, send()).result(60)


def _meter(transaction_id: int, energy_wh: int, power_w: int) -> Any:
    sampled = [
        {"value": str(energy_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": str(power_w), "measurand": "Power.Active.Import", "unit": "W"},
    ]
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[{"timestamp": _stamp(datetime.now(UTC)), "sampledValue": sampled}],
    )


def _session_cookie(page: Page) -> dict[str, Any] | None:
    found = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    return dict(found[0]) if found else None


def test_live_session_exports_reload_and_24_hour_axes(stack: Stack, tmp_path: Path) -> None:
    [started] = _ocpp(
        stack,
        call.StartTransaction(
            connector_id=1,
            id_tag="04A2B3C4",
            meter_start=10_000,
            timestamp=_stamp(datetime.now(UTC)),
        ),
    )
    transaction = started.transaction_id
    _ocpp(stack, _meter(transaction, 11_000, 7_400))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            _sign_in(page, stack)
            cookie = _session_cookie(page) or _wait_until(
                lambda: _session_cookie(page), "the session cookie", timeout=20
            )
            assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (
                True,
                True,
                "Strict",
            )

            # a reload (a new browser session) stays signed in, here on the running session
            page.goto(f"{stack.ui_url}/session_detail?tx={transaction}")
            energy = page.get_by_test_id("stMetric").filter(has_text="Energy so far, kWh")
            expect(energy).to_contain_text("1.00")
            expect(page.get_by_test_id("stMetric").filter(has_text="Power now")).to_contain_text(
                "7.4"
            )
            _ocpp(stack, _meter(transaction, 12_500, 11_000))
            expect(energy).to_contain_text("2.50")  # refreshed live, no reload

            _exports_download_twice(page, stack, tmp_path)
            _axes_in_24_hours(page)

            page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            _wait_until(lambda: _session_cookie(page) is None, "the cookie cleared", timeout=20)
            page.reload()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        finally:
            browser.close()


def _exports_download_twice(page: Page, stack: Stack, tmp_path: Path) -> None:
    page.goto(f"{stack.ui_url}/sessions?cp={LIVE}")
    expect(page.get_by_text("Sessions on this page")).to_be_visible()
    _settled(page)
    for label in ("This page as CSV", "Newest 10,000 as CSV"):
        for attempt in range(2):
            with page.expect_download() as download:
                page.get_by_role("button", name=label).click()
            path = tmp_path / f"{label}-{attempt}.csv"
            download.value.save_as(path)
            header, *rows = path.read_text(encoding="utf-8").splitlines()
            assert "energy_kwh,power_kw" in header
            running = dict(zip(header.split(","), rows[0].split(","), strict=True))
            assert (running["energy_kwh"], running["stop_reason"]) == ("2.5", "")
            assert running["start_time"].endswith("Z") and "T" in running["start_time"]


def _axes_in_24_hours(page: Page) -> None:
    _open(page, "Charge point")
    _pick(page, "Charge point", DEPOT)
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    expect(chart.locator("svg text").first).to_be_attached()
    labels = [text.strip() for text in chart.locator("svg text").all_text_contents()]
    times = [label for label in labels if re.fullmatch(r"\d{2}:\d{2}", label)]
    assert any(int(label[:2]) >= 13 for label in times), labels  # a day has afternoon hours
    assert not [label for label in labels if label.endswith(("AM", "PM"))], labels
    assert any(label.startswith("Time (") for label in labels), labels
