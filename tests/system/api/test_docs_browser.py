"""/docs in a real Chromium under the API's Content-Security-Policy.

The browser loads the page from a real embedded CSMS. Its requests to jsDelivr are
answered with the very files of swagger-ui-dist as published on npm (fetched once with
``npm pack`` into ``.cache/``), so the page's Subresource Integrity and policy are checked
by the browser itself; any other request off the machine is refused and fails the test.
Skipped, with the reason, without Chromium or npm.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, Route, async_playwright, expect

from chargestream.api.security import SWAGGER_UI_BASE, SWAGGER_UI_FILES, SWAGGER_UI_VERSION
from tests.conftest import RunningCsms

CHROMIUM = Path("/usr/bin/chromium")
CACHE = Path(__file__).resolve().parents[3] / ".cache" / "swagger-ui-dist" / SWAGGER_UI_VERSION
TIMEOUT_MS = 20_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)


@pytest.fixture(scope="module")
def swagger_files() -> Iterator[Path]:
    """The package's files, from the npm registry, kept in .cache/ for later runs."""
    package = CACHE / "package"
    if not all((package / name).is_file() for name in SWAGGER_UI_FILES):
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is needed to fetch swagger-ui-dist")
        CACHE.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            [npm, "pack", f"swagger-ui-dist@{SWAGGER_UI_VERSION}", "--pack-destination", CACHE],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if packed.returncode != 0:
            pytest.skip(f"npm pack swagger-ui-dist failed: {packed.stderr.strip()[-300:]}")
        (archive,) = CACHE.glob("swagger-ui-dist-*.tgz")
        with tarfile.open(archive) as tar:
            tar.extractall(CACHE, filter="data")
    yield package


class Browser:
    """What one page asked for and what it complained about."""

    def __init__(self, files: Path, tampered: bool = False) -> None:
        self.files = files
        self.tampered = tampered
        self.refused: list[str] = []  # requests that would have left the machine
        self.console: list[str] = []

    async def answer(self, route: Route) -> None:
        url = route.request.url
        if not url.startswith(SWAGGER_UI_BASE):
            self.refused.append(url)
            await route.abort()
            return
        name = url.removeprefix(SWAGGER_UI_BASE)
        body = (self.files / name).read_bytes()
        if self.tampered and name.endswith(".js"):
            body += b"\n;window.tampered = true;\n"
        kind = "text/css" if name.endswith(".css") else "application/javascript"
        await route.fulfill(
            status=200,
            body=body,
            headers={"content-type": kind, "access-control-allow-origin": "*"},
        )

    async def open(self, page: Page, csms: RunningCsms) -> None:
        await page.route("https://**/*", self.answer)
        await page.route("http://**/*", self._local_only)
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        await page.goto(f"{csms.api.base_url}/docs")

    async def _local_only(self, route: Route) -> None:
        if route.request.url.startswith("http://127.0.0.1:"):
            await route.continue_()
        else:
            self.refused.append(route.request.url)
            await route.abort()

    def policy_violations(self) -> list[str]:
        return [line for line in self.console if "Content Security Policy" in line]


async def test_docs_load_and_try_an_operation_under_the_policy(
    csms: RunningCsms, swagger_files: Path
) -> None:
    seen = Browser(swagger_files)
    token = csms.app.settings.api_token
    assert token is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await seen.open(page, csms)
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text("chargestream")
            operation = page.locator("#operations-commands-command_log_api_v1_commands_get")
            await expect(operation).to_be_visible()

            await page.get_by_role("button", name="Authorize").first.click()
            await page.locator(".auth-container input").fill(token)
            await page.locator(".auth-btn-wrapper button.authorize").click()
            await page.locator(".auth-btn-wrapper button.btn-done").click()

            await operation.locator(".opblock-summary").click()
            await operation.get_by_role("button", name="Try it out").click()
            await operation.get_by_role("button", name="Execute").click()
            status = operation.locator(".live-responses-table .response .response-col_status")
            await expect(status.first).to_have_text("200")
        finally:
            await browser.close()
    assert seen.policy_violations() == []
    assert seen.refused == []


async def test_a_changed_swagger_bundle_is_refused_by_the_browser(
    csms: RunningCsms, swagger_files: Path
) -> None:
    seen = Browser(swagger_files, tampered=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await seen.open(page, csms)
            await page.wait_for_load_state("load")
            assert await page.evaluate("window.tampered === undefined")
            assert await page.evaluate("typeof SwaggerUIBundle") == "undefined"
            await expect(page.locator(".swagger-ui .info")).to_have_count(0)
        finally:
            await browser.close()
    assert any("integrity" in line for line in seen.console), seen.console
