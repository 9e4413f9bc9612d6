"""The console's Analytics page (views/analytics.js) and the dashboard's headline figures (dashboard.js) in a real
Chromium, against agent-core's daily analytics through the gateway, in a tenant of its own (crm_tenant.py) whose day
is made through the public APIs as a business makes it: customers write in the sandbox, a booking (whose confirmation
goes out), two vouchers, a lead converted by hand, a voice call reported by Vapi.

The page's headline numbers, charts, messages per channel and table are the API's figures for the range (the last 30
UTC days by default), which agree with each service's own rows in the database; the CSV it downloads is the API's;
another range shows that range's figures; a range the API refuses is said in its words. The dashboard shows the last
7 days' totals as the API gives them, linking to the page with that range. Another tenant's figures are all zero
(an agent may not read them at all: test_customers.py)."""
import datetime
import pathlib
import time
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from calendar_tenant import sign_in_with
from console import click, page_ready, wait
from crm_tenant import CRM, unique, unique_phone

UTC = datetime.timezone.utc
COUNTS = ["conversations", "messagesIn", "messagesOut", "sms", "failedSends", "calls", "callsSuccessful", "callsFailed", "bookings",
          "cancellations", "completed", "noShows", "leadsCreated", "leadsConverted", "vouchersIssued", "vouchersRedeemed"]
CHARTS = {"messages": ["conversations", "messagesIn", "messagesOut"], "calls": ["callsSuccessful", "callsFailed"],
          "bookings": ["bookings", "cancellations", "completed", "noShows"], "leads": ["leadsCreated", "leadsConverted"],
          "vouchers": ["vouchersIssued", "vouchersRedeemed"]}
EXPONENTS = {"RWF": 0, "UGX": 0, "BIF": 0}


def today():
    return datetime.datetime.now(UTC).date()


def count(figures, key):
    value = figures[key]
    return sum(value.values()) if isinstance(value, dict) else value


def costs_text(minor_by_currency):
    """The providers' costs as the page writes them (en-US): "0.12 USD"."""
    parts = []
    for currency, minor in minor_by_currency.items():
        if not minor:
            continue
        exponent = EXPONENTS.get(currency, 2)
        parts.append(f"{minor / 10 ** exponent:,.{exponent}f} {currency}")
    return " + ".join(parts) or "—"


class Day(CRM):
    """A tenant with a day of work, once every service has counted it."""

    def __init__(self, api):
        super().__init__(api)
        # clear of UTC midnight: the day the page shows is the day the work was done
        now = datetime.datetime.now(UTC)
        if now.hour == 23 and now.minute >= 57:
            time.sleep(60 * (60 - now.minute) + 5)
        self.writers = [unique_phone(), unique_phone()]
        for phone, text in ((self.writers[0], "Hello, is the flat free?"), (self.writers[0], "And the price?"), (self.writers[1], "Habari")):
            status, answer = self.call("POST", "/v1/sandbox/inbound", {"from": phone, "text": text})
            assert status == 202, answer
        status, calendar = self.call("POST", "/v1/calendar/agents", {"name": unique("Amina"), "timeZone": "Africa/Nairobi"}, key=str(uuid.uuid4()))
        assert status == 201, calendar
        start = (datetime.datetime.now(UTC) + datetime.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        status, booked = self.call("POST", "/v1/appointments", {
            "agentId": calendar["id"], "title": "Viewing", "startsAt": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "durationMinutes": 30,
            "status": "scheduled", "source": "manual", "contactPhone": unique_phone(), "contactName": "Baraka"}, key=str(uuid.uuid4()))
        assert status == 201, booked
        for _ in range(2):
            status, voucher = self.call("POST", "/v1/vouchers", {"amount": "100", "msisdn": "+25078" + unique_phone()[-7:]}, key=str(uuid.uuid4()))
            assert status == 201, voucher
        won = self.lead(name=unique("Wanjiru"))
        status, _ = self.call("PUT", f"/v1/leads/{won['id']}/stage", {"stage": "won", "reason": "signed"})
        assert status == 200
        self.report_call(won["phone"])
        # the CRM's events and the booking's confirmation (a third conversation, one message sent) go through the
        # services' jobs: wait until the day is counted whole
        expected = {"conversations": 3, "messagesIn": 3, "messagesOut": 1, "bookings": 1, "vouchersIssued": 2, "leadsCreated": 4,
                    "leadsConverted": 1, "calls": 1}
        deadline = time.time() + 60
        while True:
            totals = self.figures_of(today(), today())["totals"]
            if all(count(totals, k) == v for k, v in expected.items()):
                break
            assert time.time() < deadline, totals
            time.sleep(0.5)

    def figures_of(self, start, end):
        status, answer = self.call("GET", f"/v1/analytics/daily?from={start}&to={end}")
        assert status == 200, answer
        return answer


@pytest.fixture(scope="module")
def day(api):
    return Day(api)


def tiles(driver, box="daily-totals"):
    """{key: (data-value, text)} of the headline numbers."""
    return {t.get_attribute("data-total"): (t.get_attribute("data-value"), t.find_element(By.TAG_NAME, "dd").text)
            for t in driver.find_elements(By.CSS_SELECTOR, f"#{box} .total")}


def loaded(driver):
    return wait(driver).until(lambda d: "Figures from" in d.find_element(By.ID, "daily-status").text)


def set_value(driver, element_id, value):
    """A date field's value as its picker would set it (typing depends on the browser's locale)."""
    driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, element_id), value)


def test_the_page_shows_the_apis_figures_as_numbers_charts_and_tables_and_downloads_its_csv(browser, base_url, day, sql, tmp_path):
    start, end = today() - datetime.timedelta(days=29), today()
    answer = day.figures_of(start, end)
    totals, figures = answer["totals"], {d["day"]: d for d in answer["days"]}
    assert answer["partial"] == [] and len(answer["days"]) == 30
    # the API's figures are each service's own rows
    tenant, since = day.id, "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    assert sql(f"SELECT count(*) FROM messaging.conversations WHERE tenant_id = '{tenant}' AND created_at >= {since}") == [[str(totals["conversations"])]]
    assert sql(f"SELECT count(*) FROM messaging.messages WHERE tenant_id = '{tenant}' AND direction = 'inbound'") == [[str(count(totals, "messagesIn"))]]
    assert sql(f"SELECT count(*) FROM calendar.appointments WHERE tenant_id = '{tenant}'") == [[str(totals["bookings"])]]
    assert sql(f"SELECT count(*) FROM vouchers.vouchers WHERE tenant_id = '{tenant}'") == [[str(totals["vouchersIssued"])]]
    assert sql(f"SELECT count(*) FROM agent.leads WHERE tenant_id = '{tenant}' AND merged_into IS NULL") == [[str(totals["leadsCreated"])]]
    assert sql(f"SELECT count(*) FROM agent.calls WHERE tenant_id = '{tenant}'") == [[str(totals["calls"])]]

    driver = browser("desktop")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    sign_in_with(driver, base_url, day.email, day.password, "#/analytics", "analytics")
    loaded(driver)
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert links[:2] == ["dashboard", "analytics"], links
    assert driver.find_element(By.ID, "daily-from").get_attribute("value") == start.isoformat()
    assert driver.find_element(By.ID, "daily-to").get_attribute("value") == end.isoformat()
    # the headline numbers: the range's totals
    shown = tiles(driver)
    for key in COUNTS:
        assert shown[key] == (str(count(totals, key)), str(count(totals, key))), (key, shown[key], totals[key])
    assert (shown["conversations"][0], shown["messagesIn"][0], shown["messagesOut"][0], shown["bookings"][0], shown["vouchersIssued"][0]) == (
        "3", "3", "1", "1", "2")
    assert shown["leadsCreated"][0] == "4" and shown["leadsConverted"][0] == "1" and shown["calls"][0] == "1"
    assert totals["conversionRate"] == 0.25 and shown["conversionRate"] == ("0.25", "25%")
    assert shown["llmCostMicros"] == (str(totals["llmCostMicros"]), f"${totals['llmCostMicros'] / 1e6:,.2f}")
    assert shown["providerCostMinor"][1] == costs_text(totals["providerCostMinor"])
    assert totals["providerCostMinor"].get("USD") == 12 and shown["providerCostMinor"][1] == "0.12 USD"  # the call's US$ 0.1234
    assert not driver.find_elements(By.ID, "daily-partial")
    # a chart per subject: a group of bars per day, each bar the day's figure
    for chart, series in CHARTS.items():
        bars = driver.find_elements(By.CSS_SELECTOR, f"#daily-chart-{chart} rect.bar")
        assert len(bars) == 30 * len(series), chart
        for bar in bars:
            assert bar.get_attribute("data-value") == str(count(figures[bar.get_attribute("data-day")], bar.get_attribute("data-series")))
    today_bar = driver.find_element(By.CSS_SELECTOR, f'#daily-chart-messages rect[data-day="{end}"][data-series="messagesIn"]')
    assert today_bar.get_attribute("data-value") == "3" and "3 Messages received" in today_bar.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    # the messages per channel, and every day as a table
    channels = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in driver.find_elements(By.CSS_SELECTOR, "#daily-channels tbody tr")]
    assert channels == [["Sandbox", str(totals["messagesIn"]["sandbox"]), str(totals["messagesOut"].get("sandbox", 0))]], channels
    assert len(driver.find_elements(By.CSS_SELECTOR, "#daily-table tbody tr")) == 30

    # the CSV: the API's own, for the range shown
    click(driver, driver.find_element(By.ID, "daily-export"))
    link = wait(driver).until(EC.visibility_of_element_located((By.ID, "daily-download")))
    assert link.get_attribute("download") == f"analytics-{start}-{end}.csv"
    path = pathlib.Path(tmp_path) / link.get_attribute("download")
    deadline = time.time() + 20
    while not (path.exists() and path.stat().st_size) and time.time() < deadline:
        time.sleep(0.1)
    status, csv_text = day.call("GET", f"/v1/analytics/daily?from={start}&to={end}&format=csv")
    assert status == 200 and path.read_bytes().decode() == csv_text
    lines = csv_text.split("\r\n")
    assert lines[0].startswith("day,conversations,messages_in") and lines[-2].startswith("total,3,3,1,") and len(lines) == 33

    # another range: the last 7 days, in the address too
    week = today() - datetime.timedelta(days=6)
    set_value(driver, "daily-from", week.isoformat())
    click(driver, driver.find_element(By.ID, "daily-show"))
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#daily-chart-calls rect.bar")) == 7 * 2)
    assert f"from={week}" in driver.execute_script("return location.hash")
    weekly = day.figures_of(week, end)["totals"]
    shown = tiles(driver)
    assert all(shown[key][0] == str(count(weekly, key)) for key in COUNTS), (shown, weekly)


def test_a_range_the_api_refuses_is_said_in_its_words(browser, base_url, day):
    driver = browser("desktop")
    sign_in_with(driver, base_url, day.email, day.password, "#/analytics", "analytics")
    loaded(driver)
    before = tiles(driver)
    for start, end in (("2020-01-01", today().isoformat()), (today().isoformat(), "2020-01-01")):
        status, refusal = day.call("GET", f"/v1/analytics/daily?from={start}&to={end}")
        assert status == 400 and refusal["error"]["code"] == "invalid_date", refusal
        set_value(driver, "daily-from", start)
        set_value(driver, "daily-to", end)
        click(driver, driver.find_element(By.ID, "daily-show"))
        line = wait(driver).until(lambda d: d.find_element(By.ID, "daily-status") if d.find_element(By.ID, "daily-status").get_attribute("data-code") else None)
        assert line.get_attribute("data-code") == "invalid_date" and line.get_attribute("data-kind") == "error"
        assert line.text == "Check the dates."
        # what was shown stays
        assert tiles(driver) == before
        set_value(driver, "daily-from", (today() - datetime.timedelta(days=29)).isoformat())
        set_value(driver, "daily-to", today().isoformat())
        click(driver, driver.find_element(By.ID, "daily-show"))
        wait(driver).until(lambda d: not d.find_element(By.ID, "daily-status").get_attribute("data-code"))
        loaded(driver)
    # so does the CSV
    set_value(driver, "daily-from", "2020-01-01")
    click(driver, driver.find_element(By.ID, "daily-export"))
    wait(driver).until(lambda d: d.find_element(By.ID, "daily-status").get_attribute("data-code") == "invalid_date")
    assert not driver.find_element(By.ID, "daily-download").is_displayed()


def test_the_dashboard_shows_the_last_7_days_totals_and_opens_the_analytics_of_that_range(browser, base_url, day):
    start, end = today() - datetime.timedelta(days=6), today()
    totals = day.figures_of(start, end)["totals"]
    driver = browser("desktop")
    sign_in_with(driver, base_url, day.email, day.password, "#/dashboard", "dashboard")
    shown = tiles(driver, "headline")
    messages = count(totals, "messagesIn") + count(totals, "messagesOut")
    assert shown == {
        "conversations": (str(totals["conversations"]), str(totals["conversations"])),
        "messages": (str(messages), str(messages)),
        "bookings": (str(totals["bookings"]), str(totals["bookings"])),
        "calls": (str(totals["calls"]), str(totals["calls"])),
        "leadsCreated": (str(totals["leadsCreated"]), str(totals["leadsCreated"])),
        "conversionRate": (str(totals["conversionRate"]), "25%"),
        "vouchersIssued": (str(totals["vouchersIssued"]), str(totals["vouchersIssued"])),
    }, shown
    assert (shown["conversations"][0], shown["messages"][0], shown["vouchersIssued"][0]) == ("3", "4", "2")
    assert "The last 7 days" in driver.find_element(By.CSS_SELECTOR, "#main .page").text
    click(driver, driver.find_element(By.ID, "headline-more"))
    page_ready(driver, "analytics")
    loaded(driver)
    assert driver.find_element(By.ID, "daily-from").get_attribute("value") == start.isoformat()
    assert tiles(driver)["conversations"][0] == str(totals["conversations"])


def test_another_tenant_counts_none_of_this_work(browser, base_url, api, day):
    other = CRM(api)
    status, answer = other.call("GET", f"/v1/analytics/daily?from={today()}&to={today()}")
    assert status == 200 and all(count(answer["totals"], key) == 0 for key in COUNTS), answer
    driver = browser("desktop")
    sign_in_with(driver, base_url, other.email, other.password, "#/analytics", "analytics")
    loaded(driver)
    assert all(value == ("0", "0") for key, value in tiles(driver).items() if key in COUNTS), tiles(driver)
    assert tiles(driver)["conversionRate"] == ("", "—")
    assert "No messages in this period" in driver.find_element(By.ID, "daily-channels").text
