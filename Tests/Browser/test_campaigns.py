"""The console's campaign pages (views/campaigns.js, campaign-new.js, campaign-view.js) in a real Chromium, against
messaging through the gateway. Every test works in a tenant of its own, with its admin, a sandbox channel (it "sends"
into the sandbox outbox) and the tenant's quiet hours off, so the campaigns it reads are its own and go out at any
hour of the run.

A campaign is built through the builder: its approved template previewed with sample values (a missing one named
by the API), the draft saved, a CSV with a bad number, a duplicate and a row missing a variable checked by the API
first (its report row by row, nothing stored), then the valid rows imported, quiet hours ignored and a throttle set,
and started; its page follows the progress until every valid target is sent, the finished campaign says so, and
the CSV export holds every target with its status. The page's buttons follow the status (start, pause, resume,
cancel) and what they do is the API's; a start without targets is refused with the API's reason; a voucher
campaign keeps its voucher, is scheduled for later, reopens in the builder, and once started each customer gets a
voucher of their own with its code in the message; the list filters by status. Customers' numbers (the
target list, the export) are for the tenant's admin and support only: data_ops and read-only staff see the
progress without them, and read-only staff no button that writes."""
import csv
import datetime
import io
import pathlib
import random
import re
import time
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from calendar_tenant import sign_in_with
from console import click, go, open_dialog, page_holds, page_ready, submit_dialog, wait

SUPER = "admin@sokoni.local"
READONLY = "readonly@sokoni.local"
DATAOPS = "dataops@sokoni.local"
EXPORT_HEADER = ["msisdn", "status", "error_code", "error_message", "message_id", "voucher_id", "needs_review", "updated_at"]
REACHED = ("sent", "delivered", "read")


# ---------- a tenant of the test's own ----------

class Shop:
    """A fresh tenant with its admin (`call` speaks as them), a sandbox channel and no quiet hours."""

    def __init__(self, api):
        self.api = api
        slug = f"camp-{uuid.uuid4().hex[:8]}"
        status, tenant = api.call("POST", "/v1/tenants", api.login(SUPER), body={
            "name": f"Campaigns {slug}", "slug": slug, "plan": "pro", "currency": "RWF"})
        assert status == 201, tenant
        self.id = tenant["id"]
        self.email, self.password = f"{slug}@example.com", f"pw-{uuid.uuid4().hex}"
        status, user = api.call("POST", "/v1/users", api.login(SUPER), body={
            "email": self.email, "password": self.password, "name": "Campaign owner", "tenantId": self.id, "roles": ["tenant_admin"]})
        assert status == 201, user
        self.token = api.login(self.email, self.password)
        # quiet hours would hold the sends at night in Kigali: off for this tenant
        status, settings = self.call("GET", "/v1/messaging/settings")
        assert status == 200, settings
        status, saved = self.call("PUT", "/v1/messaging/settings", dict(settings, quietHours={}))
        assert status == 200, saved
        self.sandbox = self.channel("sandbox", f"Sandbox {slug[-4:]}")

    def call(self, method, path, body=None, key=None, headers=None):
        all_headers = dict(headers or {})
        if key:
            all_headers["Idempotency-Key"] = key
        status, answer = self.api.call(method, path, self.token, body=body, headers=all_headers)
        if status == 401:
            self.token = self.api.login(self.email, self.password)
            status, answer = self.api.call(method, path, self.token, body=body, headers=all_headers)
        return status, answer

    def channel(self, kind, name, **extra):
        status, channel = self.call("POST", "/v1/channels", {"kind": kind, "name": name, **extra}, key=str(uuid.uuid4()))
        assert status == 201, channel
        return channel

    def template(self, body="Habari {{1}}, your discount is {{2}}.", name=None, channel=None, **extra):
        status, template = self.call("POST", "/v1/templates", {
            "channelId": (channel or self.sandbox)["id"], "name": name or f"promo_{uuid.uuid4().hex[:8]}", "language": "en",
            "category": "marketing", "body": body, **extra}, key=str(uuid.uuid4()))
        assert status == 201, template
        assert template["status"] == "approved", template
        return template

    def campaign(self, template, name=None, targets=None, metadata=None, **extra):
        """A draft through the API, with `targets` [(msisdn, [variables])] imported as JSON."""
        status, campaign = self.call("POST", "/v1/campaigns", {
            "name": name or f"Campaign {uuid.uuid4().hex[:6]}", "type": "promo", "channelId": template["channelId"],
            "templateId": template["id"], "metadata": metadata or {"ignoreQuietHours": True}, **extra}, key=str(uuid.uuid4()))
        assert status == 201, campaign
        assert campaign["status"] == "draft"
        if targets:
            status, report = self.call("POST", f"/v1/campaigns/{campaign['id']}/targets",
                                       {"targets": [{"msisdn": m, "variables": v} for m, v in targets]})
            assert status == 200 and report["accepted"] == len(targets), report
        return campaign

    def get(self, campaign_id):
        status, campaign = self.call("GET", f"/v1/campaigns/{campaign_id}")
        assert status == 200, campaign
        return campaign

    def targets(self, campaign_id):
        status, page = self.call("GET", f"/v1/campaigns/{campaign_id}/targets?limit=200")
        assert status == 200, page
        return page["items"]

    def outbox(self):
        items, cursor = [], None
        while True:
            query = "limit=200" + (f"&cursor={cursor}" if cursor else "")
            status, page = self.call("GET", f"/v1/sandbox/outbox?{query}")
            assert status == 200, page
            items += page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return items


@pytest.fixture
def shop(api):
    return Shop(api)


def rwanda_number():
    return "+25078" + "".join(random.choice("0123456789") for _ in range(7))


# ---------- the page ----------

def owner_page(driver, base_url, shop, route, page):
    return sign_in_with(driver, base_url, shop.email, shop.password, route, page)


def staff_page(driver, base_url, api, email, shop, route, page):
    """Platform staff who cannot list tenants name the test's tenant, then land where they were going."""
    driver.get(f"{base_url}/admin/{route}")
    field = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#signin-form input[name=email]")))
    field.clear()  # (the form keeps the last email of this tab)
    field.send_keys(email)
    driver.find_element(By.CSS_SELECTOR, "#signin-form input[name=password]").send_keys(api.user(email)["password"])
    driver.find_element(By.ID, "signin-submit").click()
    page_ready(driver, "tenant")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "tenant-id"))).send_keys(shop.id)
    driver.find_element(By.ID, "tenant-use").click()
    return page_ready(driver, page)


def text(driver, selector):
    return re.sub(r"\s+", " ", driver.find_element(By.CSS_SELECTOR, selector).text).strip()


def says(driver, selector, words, seconds=20):
    """Until the element's text holds `words`; its text."""
    return wait(driver, seconds).until(lambda d: words in text(d, selector) and text(d, selector), f"{selector} never said {words!r}")


def set_value(driver, element_id, value):
    """A date or time field's value as its picker would set it (typing depends on the browser's locale)."""
    driver.execute_script("""
        const el = document.getElementById(arguments[0]);
        el.value = arguments[1];
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));""", element_id, value)


def funnel(driver):
    """The funnel's bars as drawn: {stage: value}."""
    return driver.execute_script("""
        return Object.fromEntries([...document.querySelectorAll('#campaign-funnel rect.bar')]
          .map((b) => [b.dataset.series, Number(b.dataset.value)]));""")


def action_buttons(driver):
    return sorted(b.get_attribute("id") for b in driver.find_elements(By.CSS_SELECTOR, "#campaign-actions button"))


def status_on_page(driver, status, seconds=20):
    wait(driver, seconds).until(
        lambda d: d.find_element(By.ID, "campaign-status").get_attribute("data-status") == status, f"the page never said {status}")


def write_csv(tmp_path, name, rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path = tmp_path / name
    path.write_text(out.getvalue())
    return str(path)


def local_input(moment):
    """A datetime-local field's value for an aware datetime, in the browser's zone (the test machine's)."""
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M")


# ---------- building and sending ----------

def test_a_campaign_is_built_checked_row_by_row_imported_started_and_followed_until_sent(browser, base_url, api, shop, tmp_path):
    template = shop.template()
    name = f"March promo {uuid.uuid4().hex[:6]}"
    driver = browser("desktop")
    owner_page(driver, base_url, shop, "#/campaigns", "campaigns")
    # the menu has campaigns and templates beside the other messaging pages
    menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert menu[menu.index("messaging-settings") + 1:menu.index("messaging-settings") + 3] == ["campaigns", "templates"], menu
    assert "No campaign yet" in wait(driver).until(lambda d: d.find_element(By.ID, "campaigns-list").text or None)
    click(driver, driver.find_element(By.ID, "campaigns-new"))
    page_ready(driver, "campaigns/new")

    # 1. the message: the only approved template of the channel is picked, its preview needs every value
    driver.find_element(By.ID, "campaign-name").send_keys(name)
    Select(driver.find_element(By.ID, "campaign-channel")).select_by_value(shop.sandbox["id"])
    wait(driver).until(lambda d: d.find_element(By.ID, "campaign-template").get_attribute("value") == template["id"])
    assert "Habari {{1}}, your discount is {{2}}." in text(driver, "#campaign-template-body")
    assert not driver.find_element(By.ID, "campaign-voucher").is_displayed()
    driver.find_element(By.ID, "preview-var-1").send_keys("Aline")
    error = says(driver, "#preview-error", "{{2}}")
    assert driver.find_element(By.ID, "preview-error").get_attribute("data-code") == "missing_variable", error
    driver.find_element(By.ID, "preview-var-2").send_keys("20%")
    says(driver, "#preview-text", "Habari Aline, your discount is 20%.")
    assert not text(driver, "#preview-error")
    click(driver, driver.find_element(By.ID, "campaign-create"))
    says(driver, "#campaign-created", "saved")
    campaign_id = driver.find_element(By.ID, "message-step").get_attribute("data-id")
    assert f"id={campaign_id}" in driver.execute_script("return location.hash")  # a reload keeps the draft
    stored = shop.get(campaign_id)
    assert stored["name"] == name and stored["status"] == "draft" and stored["templateId"] == template["id"]
    assert stored["channelId"] == shop.sandbox["id"] and stored["type"] == "promo"

    # 2. who gets it: the file is checked first, row by row, nothing stored
    good = [rwanda_number() for _ in range(3)]
    path = write_csv(tmp_path, "customers.csv", [
        ["msisdn", "name", "discount"],
        [good[0], "Aline", "10%"],
        ["not-a-phone", "Jean", "15%"],
        [good[1], "Eric", "20%"],
        [good[0], "Aline again", "10%"],
        [rwanda_number(), "Grace", ""],
        [good[2], "Divine", "30%"],
    ])
    assert "msisdn" in text(driver, "#targets-columns") and "{{1}}, {{2}}" in text(driver, "#targets-columns")
    driver.find_element(By.ID, "targets-file").send_keys(path)
    says(driver, "#targets-summary", "3 can be imported")
    rows = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#targets-problems tbody tr") or None)
    report = sorted((int(r.get_attribute("data-row")), r.get_attribute("data-code")) for r in rows)
    assert report == [(2, "invalid_msisdn"), (4, "duplicate"), (5, "missing_variable")], report
    dup = driver.find_element(By.CSS_SELECTOR, '#targets-problems tr[data-row="4"]')
    assert good[0] in dup.text and "Already in the file" in dup.text
    assert "not-a-phone" in driver.find_element(By.CSS_SELECTOR, '#targets-problems tr[data-row="2"]').text
    assert "{{2}}" in driver.find_element(By.CSS_SELECTOR, '#targets-problems tr[data-row="5"]').text
    counts = {d.get_attribute("data-count"): int(d.get_attribute("data-value")) for d in driver.find_elements(By.CSS_SELECTOR, "#targets-counts [data-count]")}
    assert counts == {"rows": 6, "accepted": 3, "duplicates": 1, "rejected": 2, "optedOut": 0}, counts
    assert shop.targets(campaign_id) == [], "the dry run stored targets"
    importer = driver.find_element(By.ID, "targets-import")
    assert importer.text == "Import 3 targets" and importer.is_enabled()
    click(driver, importer)
    says(driver, "#targets-outcome", "3 targets imported")
    wait(driver).until(lambda d: d.find_element(By.ID, "targets-total").get_attribute("data-total") == "3")
    stored = {t["msisdn"]: t for t in shop.targets(campaign_id)}
    assert sorted(stored) == sorted(good)
    assert stored[good[1]]["variables"] == ["Eric", "20%"] and all(t["status"] == "queued" for t in stored.values())
    assert not driver.find_element(By.ID, "targets-import").is_enabled()  # no second import of the same file

    # 3. when: now, quiet hours ignored, a throttle, valid until tomorrow
    click(driver, driver.find_element(By.ID, "quiet-ignore"))
    driver.find_element(By.ID, "per-minute").send_keys("600")
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    set_value(driver, "valid-until", local_input(until))
    # 4. the review says what will happen
    assert text(driver, "#review-quiet") == "Ignored" and text(driver, "#review-targets") == "3" and text(driver, "#review-rate") == "600"
    assert text(driver, "#review-start") == "Now"
    launch = driver.find_element(By.ID, "campaign-launch")
    assert launch.text == "Start the campaign"
    click(driver, launch)
    page_ready(driver, "campaigns/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").get_attribute("data-id") == campaign_id
    assert "started" in text(driver, "#campaign-line")
    stored = shop.get(campaign_id)
    assert stored["metadata"].get("ignoreQuietHours") is True and stored["metadata"].get("perMinute") == 600, stored["metadata"]
    assert stored["validUntil"] and abs(datetime.datetime.fromisoformat(stored["validUntil"].replace("Z", "+00:00")) - until).total_seconds() < 60
    assert stored["startedAt"]

    # the page follows the progress (every 2 s) until every valid target is sent, then says it is done
    wait(driver, 90).until(lambda d: funnel(d).get("sent") == 3, "the funnel never reached 3 sent")
    status_on_page(driver, "done", 60)
    assert not action_buttons(driver), "a done campaign offers buttons"
    drawn = funnel(driver)
    assert drawn["failed"] == 0 and drawn["opted_out"] == 0 and drawn["queued"] == 0, drawn
    assert "3 / 3" in text(driver, "#campaign-progress-text")
    assert driver.find_element(By.ID, "campaign-funnel").get_attribute("data-live") == "false"
    stored = shop.get(campaign_id)
    assert stored["status"] == "done" and stored["finishedAt"]
    # what the customers got: the template filled with each row's values, in the sandbox outbox
    sent = {m["to"]: m["body"] for m in shop.outbox()}
    assert sent.get(good[1]) == "Habari Eric, your discount is 20%.", sent
    assert sent.get(good[2]) == "Habari Divine, your discount is 30%."
    assert not [to for to in sent if to not in good], "someone outside the file got a message"

    # the targets with their status, and the export of them all
    listed = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#targets-list tbody tr") or None)
    assert len(listed) == 3 and all(any(n in r.text for n in good) for r in listed)
    Select(driver.find_element(By.ID, "targets-status-filter")).select_by_value("failed")
    says(driver, "#targets-list", "No target with this status")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    click(driver, driver.find_element(By.ID, "campaign-export"))
    says(driver, "#targets-line", "Exported 3 targets")
    link = driver.find_element(By.ID, "campaign-download")
    assert link.get_attribute("href").startswith("blob:") and link.get_attribute("download").endswith(".csv")
    path = pathlib.Path(tmp_path) / link.get_attribute("download")
    deadline = time.time() + 20
    while not (path.exists() and path.stat().st_size) and time.time() < deadline:
        time.sleep(0.1)
    content = path.read_bytes().decode()
    assert link.get_attribute("data-bytes") == str(len(content.encode())) and link.get_attribute("data-rows") == "3"
    exported = list(csv.reader(io.StringIO(content)))
    assert exported[0] == EXPORT_HEADER, exported[0]
    # (like every CSV download of the platform, a field starting with + is written '+… so no spreadsheet reads it
    # as a formula)
    by_number = {row[0].removeprefix("'"): row for row in exported[1:] if row}
    assert sorted(by_number) == sorted(good)
    assert all(row[1] in REACHED and row[4] for row in by_number.values()), by_number


def test_the_buttons_follow_the_status_and_do_what_they_say(browser, base_url, shop):
    template = shop.template()
    # one a minute (the first after a minute: the rate does not start with a burst): it keeps running while the
    # test presses its buttons
    numbers = [rwanda_number() for _ in range(5)]
    campaign = shop.campaign(template, targets=[(n, ["Aline", "5%"]) for n in numbers], metadata={"ignoreQuietHours": True, "perMinute": 1})
    driver = browser("desktop")
    owner_page(driver, base_url, shop, f"#/campaigns/{campaign['id']}", "campaigns/:id")
    status_on_page(driver, "draft")
    assert action_buttons(driver) == ["campaign-cancel", "campaign-start"]
    assert driver.find_element(By.ID, "campaign-continue").get_attribute("href").endswith(f"#/campaigns/new?id={campaign['id']}")
    assert funnel(driver)["queued"] == 5 and driver.find_element(By.ID, "campaign-funnel").get_attribute("data-live") == "false"

    click(driver, driver.find_element(By.ID, "campaign-start"))
    status_on_page(driver, "running")
    assert action_buttons(driver) == ["campaign-cancel", "campaign-pause"]
    assert not driver.find_elements(By.ID, "campaign-continue")
    assert shop.get(campaign["id"])["status"] == "running"
    assert driver.find_element(By.ID, "campaign-funnel").get_attribute("data-live") == "true"
    assert sum(funnel(driver)[k] for k in ("queued", "sent")) == 5

    click(driver, driver.find_element(By.ID, "campaign-pause"))
    status_on_page(driver, "paused")
    assert action_buttons(driver) == ["campaign-cancel", "campaign-resume"]
    assert "paused" in text(driver, "#campaign-line")
    assert shop.get(campaign["id"])["status"] == "paused"

    click(driver, driver.find_element(By.ID, "campaign-resume"))
    status_on_page(driver, "running")
    assert shop.get(campaign["id"])["status"] == "running"

    # cancelling asks first; then nothing more is sent and no button is left
    click(driver, driver.find_element(By.ID, "campaign-cancel"))
    assert "cannot be undone" in open_dialog(driver).text
    submit_dialog(driver)
    status_on_page(driver, "cancelled")
    assert action_buttons(driver) == []
    stored = shop.get(campaign["id"])
    assert stored["status"] == "cancelled"
    assert stored["counts"]["sent"] + stored["counts"]["delivered"] + stored["counts"]["read"] < 5
    # a refused move says the API's reason: the API refuses to start a cancelled campaign whatever a page shows
    status, refused = shop.call("POST", f"/v1/campaigns/{campaign['id']}/start")
    assert status == 409 and refused["error"]["code"] == "invalid_transition"


def test_starting_without_targets_is_refused_with_the_reason_and_the_list_filters_by_status(browser, base_url, shop):
    template = shop.template()
    empty = shop.campaign(template, name=f"Empty {uuid.uuid4().hex[:6]}")
    other = shop.campaign(template, name=f"Gone {uuid.uuid4().hex[:6]}", targets=[(rwanda_number(), ["A", "B"]), (rwanda_number(), ["C", "D"])])
    status, _ = shop.call("POST", f"/v1/campaigns/{other['id']}/cancel")
    assert status == 200
    driver = browser("desktop")
    owner_page(driver, base_url, shop, f"#/campaigns/{empty['id']}", "campaigns/:id")
    click(driver, driver.find_element(By.ID, "campaign-start"))
    says(driver, "#campaign-line", "no targets")
    assert driver.find_element(By.ID, "campaign-line").get_attribute("data-kind") == "error"
    status_on_page(driver, "draft")
    assert shop.get(empty["id"])["status"] == "draft"

    go(driver, "#/campaigns", "campaigns")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#campaigns-list tbody tr")) == 2)
    row = driver.find_element(By.CSS_SELECTOR, f'#campaigns-list tr[data-id="{other["id"]}"]')
    assert other["name"] in row.text and "Cancelled" in row.text and "Promotion" in row.text and shop.sandbox["name"] in row.text
    assert row.find_element(By.CSS_SELECTOR, ".campaigns-progress").text == "0 / 2"
    Select(driver.find_element(By.ID, "campaigns-status-filter")).select_by_value("cancelled")
    wait(driver).until(lambda d: [r.get_attribute("data-id") for r in d.find_elements(By.CSS_SELECTOR, "#campaigns-list tbody tr")] == [other["id"]])
    assert "status=cancelled" in driver.execute_script("return location.hash")
    Select(driver.find_element(By.ID, "campaigns-status-filter")).select_by_value("running")
    says(driver, "#campaigns-list", "No campaign matches")
    # a campaign opens on its own page from the list
    Select(driver.find_element(By.ID, "campaigns-status-filter")).select_by_value("")
    link = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, f'#campaigns-list tr[data-id="{empty["id"]}"] a')))
    click(driver, link)
    page_ready(driver, "campaigns/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == empty["name"]


def test_a_voucher_campaign_is_scheduled_then_started_and_each_customer_gets_a_code_of_their_own(browser, base_url, shop, tmp_path):
    template = shop.template(body="Your voucher {{1}} is worth {{2}}, {{3}}.")
    name = f"Fuel voucher {uuid.uuid4().hex[:6]}"
    driver = browser("desktop")
    owner_page(driver, base_url, shop, "#/campaigns/new", "campaigns/new")
    driver.find_element(By.ID, "campaign-name").send_keys(name)
    Select(driver.find_element(By.ID, "campaign-type")).select_by_value("voucher")
    assert driver.find_element(By.ID, "campaign-voucher").is_displayed()
    driver.find_element(By.ID, "voucher-amount").send_keys("5000")
    Select(driver.find_element(By.ID, "voucher-currency")).select_by_value("RWF")
    expiry = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    set_value(driver, "voucher-expiry", expiry)
    Select(driver.find_element(By.ID, "campaign-channel")).select_by_value(shop.sandbox["id"])
    wait(driver).until(lambda d: d.find_element(By.ID, "campaign-template").get_attribute("value") == template["id"])
    # the code and the amount are the platform's: filled in, not typed
    code, amount = driver.find_element(By.ID, "preview-var-1"), driver.find_element(By.ID, "preview-var-2")
    assert code.get_attribute("readonly") is not None and amount.get_attribute("readonly") is not None
    assert amount.get_attribute("value") == "5000 RWF"
    driver.find_element(By.ID, "preview-var-3").send_keys("Aline")
    says(driver, "#preview-text", "worth 5000 RWF, Aline.")
    click(driver, driver.find_element(By.ID, "campaign-create"))
    says(driver, "#campaign-created", "saved")
    campaign_id = driver.find_element(By.ID, "message-step").get_attribute("data-id")
    stored = shop.get(campaign_id)
    assert stored["type"] == "voucher" and stored["voucher"]["amount"] == "5000" and stored["voucher"]["currency"] == "RWF", stored
    assert stored["voucher"]["expiresAt"][:10] in (expiry, (datetime.date.fromisoformat(expiry) + datetime.timedelta(days=1)).isoformat())
    # the file's variables start at {{3}}
    assert "{{3}}" in text(driver, "#targets-columns")
    number = rwanda_number()
    driver.find_element(By.ID, "targets-file").send_keys(write_csv(tmp_path, "drivers.csv", [["phone", "name"], [number, "Aline"]]))
    importer = wait(driver).until(lambda d: d.find_element(By.ID, "targets-import") if d.find_element(By.ID, "targets-import").is_enabled() else None)
    assert importer.text == "Import 1 targets"
    click(driver, importer)
    says(driver, "#targets-outcome", "1 targets imported")
    # at a date and time: tomorrow
    click(driver, driver.find_element(By.ID, "start-later"))
    assert driver.find_element(By.ID, "campaign-launch").text == "Schedule the campaign"
    start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).replace(second=0, microsecond=0)
    set_value(driver, "start-at", local_input(start))
    click(driver, driver.find_element(By.ID, "campaign-launch"))
    page_ready(driver, "campaigns/:id")
    status_on_page(driver, "scheduled")
    assert "scheduled" in text(driver, "#campaign-line")
    stored = shop.get(campaign_id)
    assert stored["status"] == "scheduled"
    assert datetime.datetime.fromisoformat(stored["startAt"].replace("Z", "+00:00")) == start
    assert "5,000 RWF" in text(driver, "#campaign-voucher")
    assert action_buttons(driver) == ["campaign-cancel", "campaign-start"]
    # reopened in the builder, it goes on at step 2 with what it has
    click(driver, driver.find_element(By.ID, "campaign-continue"))
    page_ready(driver, "campaigns/new")
    assert driver.find_element(By.ID, "campaign-name").get_attribute("value") == name
    assert not driver.find_element(By.ID, "campaign-name").is_enabled()
    assert driver.find_element(By.ID, "targets-total").get_attribute("data-total") == "1"
    assert driver.find_element(By.ID, "start-later").is_selected()
    # started now from its page instead: the customer gets a voucher of their own, its code in the message
    go(driver, f"#/campaigns/{campaign_id}", "campaigns/:id")
    click(driver, driver.find_element(By.ID, "campaign-start"))
    status_on_page(driver, "running")
    status_on_page(driver, "done", 60)
    assert funnel(driver)["sent"] == 1
    [target] = shop.targets(campaign_id)
    assert target["msisdn"] == number and target.get("voucherId"), target
    body = next(m["body"] for m in shop.outbox() if m["to"] == number)
    code = re.fullmatch(r"Your voucher ([A-Z0-9]{5,}) is worth 5000 RWF, Aline\.", body)
    assert code, body
    status, voucher = shop.call("GET", f"/v1/vouchers/{target['voucherId']}")
    assert status == 200 and voucher["code"] == code.group(1) and voucher["msisdn"] == number and voucher["amount"] == "5000", voucher


# ---------- who sees customers' numbers ----------

def test_the_targets_and_their_export_are_for_the_tenants_admin_not_for_data_ops_or_read_only_staff(browser, base_url, api, shop):
    template = shop.template()
    numbers = [rwanda_number() for _ in range(2)]
    campaign = shop.campaign(template, targets=[(n, ["Aline", "5%"]) for n in numbers])
    route = f"#/campaigns/{campaign['id']}"

    # the tenant's admin: the list of targets with their numbers, and the export
    driver = browser("desktop")
    owner_page(driver, base_url, shop, route, "campaigns/:id")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#targets-list tbody tr")) == 2)
    assert all(page_holds(driver, n) for n in numbers)
    assert driver.find_element(By.ID, "campaign-export").is_displayed()

    for email in (DATAOPS, READONLY):
        click(driver, driver.find_element(By.ID, "signout"))
        wait(driver).until(EC.visibility_of_element_located((By.ID, "signin-form")))
        staff_page(driver, base_url, api, email, shop, route, "campaigns/:id")
        # the progress, never the numbers
        assert funnel(driver)["queued"] == 2
        assert not driver.find_elements(By.ID, "campaign-targets") and not driver.find_elements(By.ID, "campaign-export")
        assert not any(page_holds(driver, n) for n in numbers), f"{email} sees a customer's number"
        menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
        assert {"campaigns", "templates"} <= set(menu), menu
        if email == DATAOPS:
            # data_ops manage campaigns: the buttons are theirs
            assert action_buttons(driver) == ["campaign-cancel", "campaign-start"]
            go(driver, "#/campaigns/new", "campaigns/new")
        else:
            assert driver.find_elements(By.CSS_SELECTOR, "#main [data-write]") == []
            go(driver, "#/campaigns", "campaigns")
            wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#campaigns-list tr[data-id="{campaign["id"]}"]'))
            assert not driver.find_elements(By.ID, "campaigns-new") and driver.find_elements(By.CSS_SELECTOR, "#main [data-write]") == []
            go(driver, "#/campaigns/new", "forbidden")
        # the API agrees whatever a page shows
        token = api.login(email)
        for path in (f"/v1/campaigns/{campaign['id']}/targets", f"/v1/campaigns/{campaign['id']}/export"):
            status, _ = api.call("GET", path, token, headers={"X-Tenant-ID": shop.id})
            assert status == 403, f"{email} GET {path}: {status}"
        status, _ = api.call("GET", f"/v1/campaigns/{campaign['id']}/progress", token, headers={"X-Tenant-ID": shop.id})
        assert status == 200
