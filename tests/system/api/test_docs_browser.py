"""/docs in a real Chromium under the API's Content-Security-Policy, offline.

The browser loads the page and Swagger UI's files from a real embedded CSMS; any request
off the machine is refused and fails the test, so /docs must work without the internet.
The page's Subresource Integrity and policy are checked by the browser itself. Skipped,
with the reason, without Chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, Route, async_playwright, expect

from tests.conftest import RunningCsms

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 20_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)


class Browser:
    """What one page asked for and what it complained about."""

    def __init__(self, tampered: bool = False) -> None:
        self.tampered = tampered
        self.refused: list[str] = []  # requests that would have left the machine
        self.console: list[str] = []

    async def open(self, page: Page, csms: RunningCsms) -> None:
        await page.route("**/*", self._local_only)
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        await page.goto(f"{csms.api.base_url}/docs")

    async def _local_only(self, route: Route) -> None:
        url = route.request.url
        if not url.startswith("http://127.0.0.1:"):
            self.refused.append(url)
            await route.abort()
        elif self.tampered and url.endswith("/docs/assets/swagger-ui-bundle.js"):
            served = await route.fetch()  # the API's file, changed on the way
            body = await served.body() + b"\n;window.tampered = true;\n"
            await route.fulfill(response=served, body=body)
        else:
            await route.continue_()

    def policy_violations(self) -> list[str]:
        return [line for line in self.console if "Content Security Policy" in line]


async def test_docs_load_offline_and_try_an_operation_under_the_policy(csms: RunningCsms) -> None:
    seen = Browser()
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


async def test_a_changed_swagger_bundle_is_refused_by_the_browser(csms: RunningCsms) -> None:
    seen = Browser(tampered=True)
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
