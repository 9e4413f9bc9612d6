"""Browser tests of the web apps: a real Chromium from Debian driven through W3C WebDriver (Selenium), against a
running platform (./Deploy/local, or the one ./Deploy/test starts).

Settings (environment):
  SOKONI_DEMO_JSON        the platform's demo file (default .local/demo.json): gateway URL, database URL, demo users
  SOKONI_BROWSER_URL      the gateway, if not the demo file's
  SOKONI_ARTIFACTS        where screenshots of failed tests go (default .local/browser-artifacts)
  SOKONI_SCREENSHOTS_UPDATE=1   the README's screenshots (docs/screenshots/) are written again
Nothing is downloaded: the driver is Debian's /usr/bin/chromedriver and Selenium Manager's telemetry is off.
"""
import json
import os
import pathlib
import re
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

os.environ.setdefault("SE_AVOID_STATS", "true")
from selenium import webdriver  # noqa: E402  (after the setting above)
from selenium.webdriver.chrome.service import Service  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(scope="session")
def demo():
    path = pathlib.Path(os.environ.get("SOKONI_DEMO_JSON", ROOT / ".local" / "demo.json"))
    if not path.exists():
        pytest.fail(f"{path} is missing: start the platform with ./Deploy/local (or run ./Deploy/test browser)")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def base_url(demo):
    return os.environ.get("SOKONI_BROWSER_URL", demo["gatewayURL"]).rstrip("/")


@pytest.fixture(scope="session")
def artifacts():
    folder = pathlib.Path(os.environ.get("SOKONI_ARTIFACTS", ROOT / ".local" / "browser-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def update_screenshots():
    return os.environ.get("SOKONI_SCREENSHOTS_UPDATE") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture
def browser(request, artifacts):
    """A factory of Chromium sessions: browser("phone") or browser("desktop"). Each is closed after the test; when
    the test failed, each first leaves a screenshot and the browser's console log in the artifacts folder."""
    drivers = []

    def make(size="desktop"):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        width, height = SIZES[size]
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                         "--lang=en-US", "--use-fake-ui-for-media-stream", "--no-first-run"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        driver.set_window_size(width, height)
        if size == "phone":
            # the window keeps some of its height for itself: the page gets exactly a phone's viewport this way
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
        driver.implicitly_wait(0)
        drivers.append(driver)
        return driver

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, driver in enumerate(drivers):
        if failed:
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.nodeid)
            driver.save_screenshot(str(artifacts / f"{name}-{index}.png"))
            try:
                logs = driver.get_log("browser")
                (artifacts / f"{name}-{index}.console.txt").write_text("\n".join(str(line) for line in logs))
            except Exception:  # noqa: BLE001  (a log is a bonus; the screenshot is what matters)
                pass
        driver.quit()


class API:
    """The platform's public API through the gateway, as a test sets up and checks what the browser did."""

    def __init__(self, base_url, demo):
        self.base_url = base_url
        self.users = {user["email"]: user for user in demo["users"]}
        self.tokens = {}

    def user(self, email):
        return self.users[email]

    def login(self, email, password=None):
        if password is None and email in self.tokens:
            return self.tokens[email]
        status, body = self.call("POST", "/v1/auth/login", body={
            "email": email, "password": password or self.users[email]["password"]})
        assert status == 200, f"login {email}: {status} {body}"
        if password is None:
            self.tokens[email] = body["accessToken"]
        return body["accessToken"]

    def call(self, method, path, token=None, body=None, headers=None):
        """(status, parsed JSON or text) of one request."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def issue_voucher(self, amount="5000", msisdn="+250788123456", as_user="owner@demo.sokoni.local", **extra):
        status, voucher = self.call("POST", "/v1/vouchers", self.login(as_user),
                                    body={"amount": amount, "msisdn": msisdn, **extra},
                                    headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 201, f"issuing a voucher: {status} {voucher}"
        return voucher


@pytest.fixture(scope="session")
def api(base_url, demo):
    return API(base_url, demo)


@pytest.fixture(scope="session")
def sql(demo):
    """sql("SELECT …") → rows as lists of strings, read with psql from the platform's database."""
    url = os.environ.get("SOKONI_DATABASE_URL", demo.get("databaseURL"))
    if not url:
        pytest.fail("the demo file names no databaseURL")

    def run(query):
        result = subprocess.run(["psql", url, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
                                capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0, f"psql failed: {result.stderr}"
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    return run
