"""The console's Customers page (views/customers.js) in a real Chromium, against agent-core through the gateway, in a
tenant of its own (crm_tenant.py) whose customers are made as they are in production: what the other services tell
the CRM (messages, a booking, purchases in two currencies, posted with a service token), a voice call reported by
Vapi, and leads moved to a won stage by a person.

The list shows the API's customers, the latest converted first, a page at a time, with their bookings, calls,
messages, amount spent per currency, last contact and when they converted, as the API and the database hold them; a
search narrows it; the page shown exports as CSV; a row opens the lead. An agent sees only the customers whose
leads are assigned to them, and no analytics (the page says so); another tenant sees none."""
import csv
import io
import pathlib
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from calendar_tenant import sign_in_with
from console import click, go, page_ready, wait
from crm_tenant import CRM, unique, unique_phone


class Shop(CRM):
    """A tenant with 14 customers and one lead that is not one."""

    def __init__(self, api):
        super().__init__(api)
        self.tag = unique("Shop").split()[1]
        # Amani: a lead made by hand, then two messages, a booking, a call and two purchases (the first converts her)
        self.amani = self.lead(name=f"Amani {self.tag}", email=f"amani-{self.tag}@example.com", company="Acme Homes")
        for _ in range(2):
            self.events({"kind": "message_received", "phone": self.amani["phone"], "channelKind": "whatsapp"})
        self.events({"kind": "appointment_booked", "phone": self.amani["phone"], "title": "Viewing"})
        self.report_call(self.amani["phone"])
        self.events({"kind": "purchase", "phone": self.amani["phone"], "amount": "1250.50", "currency": "KES"},
                    {"kind": "purchase", "phone": self.amani["phone"], "amount": "20.00", "currency": "USD"})
        status, _ = self.call("PUT", f"/v1/leads/{self.amani['id']}/assign", {"assigneeId": self.agent["id"]})
        assert status == 200
        # Baraka: known only from a purchase (the lead is made by it)
        self.baraka_phone = unique_phone()
        self.events({"kind": "purchase", "phone": self.baraka_phone, "name": f"Baraka {self.tag}", "amount": "5000", "currency": "RWF"})
        # twelve more, each moved to Won by a person; and one lead that never converts
        self.won = []
        for i in range(12):
            lead = self.lead(name=f"Client {i:02d} {self.tag}")
            status, _ = self.call("PUT", f"/v1/leads/{lead['id']}/stage", {"stage": "won", "reason": "signed"})
            assert status == 200
            self.won.append(lead)
        self.open = self.lead(name=f"Still open {self.tag}")

    def customers(self, as_agent=False, **query):
        """Every customer the API lists (pages followed), the latest converted first."""
        items, cursor = [], None
        while True:
            params = "&".join(f"{k}={v}" for k, v in {"limit": 10, **query, **({"cursor": cursor} if cursor else {})}.items())
            status, page = self.call("GET", f"/v1/customers?{params}", as_agent=as_agent)
            assert status == 200, page
            items += page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return items


@pytest.fixture(scope="module")
def shop(api):
    return Shop(api)


def customers_page(driver, base_url, email, password, route="#/customers"):
    sign_in_with(driver, base_url, email, password, route, "customers")
    return rows(driver)


def rows(driver):
    wait(driver).until(lambda d: d.find_element(By.ID, "customers-list").get_attribute("data-ready") == "true")
    return [tr.get_attribute("data-id") for tr in driver.find_elements(By.CSS_SELECTOR, "#customers-list tbody tr")]


def cell(driver, lead_id, name):
    return driver.find_element(By.CSS_SELECTOR, f'#customers-list tr[data-id="{lead_id}"] .customers-{name}')


def spent(customer):
    """What the page shows for the amounts spent (en-US): "1,250.50 KES + 20.00 USD"."""
    def money(amount):
        whole, _, fraction = amount.partition(".")
        return f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    return " + ".join(f"{money(s['amount'])} {s['currency']}" for s in customer["spent"]) or "—"


def test_the_list_shows_the_apis_customers_with_their_totals_pages_searches_exports_and_opens_a_lead(browser, base_url, shop, sql, tmp_path):
    every = shop.customers()
    ids = [c["leadId"] for c in every]
    assert len(every) == 14 and shop.open["id"] not in ids, ids
    # the database agrees: the tenant's converted leads, the latest first
    converted = sql(f"SELECT id FROM agent.leads WHERE tenant_id = '{shop.id}' AND converted_at IS NOT NULL AND merged_into IS NULL "
                    "ORDER BY converted_at DESC, id DESC")
    assert [row[0] for row in converted] == ids
    amani = next(c for c in every if c["leadId"] == shop.amani["id"])
    assert (amani["bookings"], amani["calls"], amani["messages"]) == (1, 1, 2), amani
    assert amani["spent"] == [{"currency": "KES", "amount": "1250.50"}, {"currency": "USD", "amount": "20.00"}]
    assert sql(f"SELECT bookings, messages_received FROM agent.leads WHERE id = '{shop.amani['id']}'") == [["1", "2"]]
    assert sql(f"SELECT count(*) FROM agent.calls WHERE lead_id = '{shop.amani['id']}'") == [["1"]]
    baraka = next(c for c in every if c["phone"] == shop.baraka_phone)
    assert baraka["spent"] == [{"currency": "RWF", "amount": "5000"}] and baraka["name"] == f"Baraka {shop.tag}"

    driver = browser("desktop")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    customers_page(driver, base_url, shop.email, shop.password)
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert links[links.index("leads"):links.index("leads") + 3] == ["leads", "calls", "customers"], links
    Select(driver.find_element(By.ID, "customers-size")).select_by_value("10")
    wait(driver).until(lambda d: rows(d) == ids[:10])
    assert driver.find_element(By.ID, "customers-page").text == "Page 1" and driver.find_element(By.ID, "customers-next").is_enabled()
    # every row as the API has it
    for customer in every[:10]:
        lead_id = customer["leadId"]
        assert cell(driver, lead_id, "name").text == customer["name"]
        assert [cell(driver, lead_id, k).text for k in ("bookings", "calls", "messages")] == [
            str(customer["bookings"]), str(customer["calls"]), str(customer["messages"])]
        assert cell(driver, lead_id, "spent").text == spent(customer)
        assert cell(driver, lead_id, "converted").get_attribute("datetime") == customer["convertedAt"]
        assert customer["status"] == "converted"
        row = driver.find_element(By.CSS_SELECTOR, f'#customers-list tr[data-id="{lead_id}"]')
        if customer.get("lastContactAt"):
            assert cell(driver, lead_id, "contact").get_attribute("datetime") == customer["lastContactAt"]
        else:
            assert "Never" in row.text
    # the next page (the first customers, Amani and Baraka among them), and back
    click(driver, driver.find_element(By.ID, "customers-next"))
    wait(driver).until(lambda d: rows(d) == ids[10:])
    assert driver.find_element(By.ID, "customers-page").text == "Page 2" and not driver.find_element(By.ID, "customers-next").is_enabled()
    for customer in every[10:]:
        assert cell(driver, customer["leadId"], "spent").text == spent(customer)
    assert cell(driver, shop.amani["id"], "spent").text == "1,250.50 KES + 20.00 USD"
    assert [cell(driver, shop.amani["id"], k).text for k in ("bookings", "calls", "messages")] == ["1", "1", "2"]
    assert cell(driver, shop.amani["id"], "assignee").text == shop.agent_name
    assert cell(driver, baraka["leadId"], "spent").text == "5,000 RWF"
    click(driver, driver.find_element(By.ID, "customers-prev"))
    wait(driver).until(lambda d: rows(d) == ids[:10])

    # a search: the API's answer, in the address too
    field = driver.find_element(By.ID, "customers-q")
    field.send_keys("Amani")
    click(driver, driver.find_element(By.ID, "customers-apply"))
    wait(driver).until(lambda d: rows(d) == [shop.amani["id"]])
    assert [c["leadId"] for c in shop.customers(search="Amani")] == [shop.amani["id"]]
    assert "q=Amani" in driver.execute_script("return location.hash")
    field.clear()
    field.send_keys("nobody-at-all")
    click(driver, driver.find_element(By.ID, "customers-apply"))
    wait(driver).until(lambda d: rows(d) == [])
    assert "No customer matches" in driver.find_element(By.ID, "customers-list").text
    assert not driver.find_element(By.ID, "customers-export").is_enabled()
    click(driver, driver.find_element(By.ID, "customers-reset"))
    wait(driver).until(lambda d: rows(d) == ids[:10])

    # the page shown as CSV: a header row, a row per customer as the API has it
    click(driver, driver.find_element(By.ID, "customers-export"))
    link = wait(driver).until(EC.visibility_of_element_located((By.ID, "customers-download")))
    assert link.get_attribute("data-rows") == "10"
    path = pathlib.Path(tmp_path) / link.get_attribute("download")
    deadline = time.time() + 20
    while not (path.exists() and path.stat().st_size) and time.time() < deadline:
        time.sleep(0.1)
    raw = path.read_bytes().decode()
    assert link.get_attribute("data-bytes") == str(len(raw.encode())) and raw.endswith("\r\n")
    table = list(csv.reader(io.StringIO(raw, newline="")))
    header = table[0]
    assert header == ["lead_id", "name", "phone", "email", "company", "tags", "assignee_id", "status", "converted_at", "last_contact_at",
                      "bookings", "calls", "messages", "spent"]
    assert [r[0] for r in table[1:]] == ids[:10]
    for r in table[1:]:
        record = dict(zip(header, r))
        customer = next(c for c in every if c["leadId"] == record["lead_id"])
        assert (record["name"], record["phone"], record["bookings"], record["calls"], record["messages"], record["converted_at"]) == (
            customer.get("name", ""), customer["phone"], str(customer["bookings"]), str(customer["calls"]), str(customer["messages"]), customer["convertedAt"])
        assert record["spent"] == "; ".join(f"{s['amount']} {s['currency']}" for s in customer["spent"])
    assert "CSV of the 10 customers" in driver.find_element(By.ID, "customers-status").text

    # a row opens the lead, whose page shows what the customer did
    field.send_keys("Amani")
    click(driver, driver.find_element(By.ID, "customers-apply"))
    wait(driver).until(lambda d: rows(d) == [shop.amani["id"]])
    click(driver, cell(driver, shop.amani["id"], "name"))
    page_ready(driver, "leads/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#lead-head h1").text == shop.amani["name"]
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#lead-timeline li[data-kind="purchase"]'))
    assert driver.find_element(By.CSS_SELECTOR, "#lead-status-badge .lead-status").get_attribute("data-status") == "converted"
    # the purchase moved the lead to Won by itself: the timeline marks that move as automatic
    moved = driver.find_element(By.CSS_SELECTOR, '#lead-timeline li[data-kind="stage_changed"]')
    assert moved.find_element(By.CSS_SELECTOR, ".lead-event-rule").text == "Automatic"


def test_an_agent_sees_only_the_customers_of_their_leads_and_no_analytics(browser, base_url, api, shop):
    theirs = shop.customers(as_agent=True)
    assert [c["leadId"] for c in theirs] == [shop.amani["id"]]
    assert shop.call("GET", "/v1/analytics/daily", as_agent=True)[0] == 403
    driver = browser("phone")
    assert customers_page(driver, base_url, shop.agent_email, shop.agent_password) == [shop.amani["id"]]
    assert cell(driver, shop.amani["id"], "assignee").text == "You"
    assert cell(driver, shop.amani["id"], "spent").text == "1,250.50 KES + 20.00 USD"
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]", )]
    assert "customers" in menu and "analytics" not in menu and "dashboard" not in menu, menu
    # the analytics page, asked for by its address: not theirs, and it says so
    go(driver, "#/analytics", "forbidden")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == "Not available to you"
    assert "does not give access" in driver.find_element(By.CSS_SELECTOR, "#main .page").text


def test_another_tenant_sees_none_of_these_customers(browser, base_url, api, shop):
    other = CRM(api)
    status, page = other.call("GET", "/v1/customers?limit=200")
    assert status == 200 and page["items"] == [], page
    driver = browser("desktop")
    assert customers_page(driver, base_url, other.email, other.password) == []
    assert "No customer yet" in driver.find_element(By.ID, "customers-list").text
    # nor by search: Amani's phone finds nothing there
    driver.find_element(By.ID, "customers-q").send_keys(shop.amani["phone"][1:])
    click(driver, driver.find_element(By.ID, "customers-apply"))
    wait(driver).until(lambda d: "No customer matches" in d.find_element(By.ID, "customers-list").text)
    assert rows(driver) == []
