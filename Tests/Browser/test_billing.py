"""The Billing page of the admin console in a real Chromium, against marketplace-wallet's usage credits and
subscriptions. Each test opens a tenant of its own (as the demo super admin), so its credits start at the grant and
the AI replies of the other tests use none of them. Reservations are made as agent-core makes them: with a service
token, signed here with the platform's shared service key (`JWT_SERVICE_KEY` in the secrets file next to the demo
file) by a small Ed25519 in Python (service_token.py). Then: the credits and the chart of credits used per day follow the API, a low
balance shows the alert banner, a top-up by the super admin (double-clicked) adds the credits once; in the sandbox a
subscription payment sent from the page is settled by a simulated M-Pesa answer and its receipt shown; a tenant
admin pays but does not top up; read-only staff see it all with no control that writes; a 360-pixel phone scrolls
nothing sideways."""
import datetime
import time
import uuid

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from console import OWNER, READONLY, click, open_dialog, page_ready, sign_in, tenant_of, wait
from service_token import mint, secrets_file

ADMIN = "admin@sokoni.local"


# ---------- a service token (service_token.py) ----------

@pytest.fixture(scope="module")
def service_token():
    """A token of agent-core's (role `service`), as ServiceTokens mints it, from the platform's shared service key."""
    token = mint("service:agent-core")
    if token is None:
        pytest.skip(f"{secrets_file()} is missing: reservations need the platform's service key")
    return token


# ---------- the API ----------

@pytest.fixture
def tenant(api):
    slug = f"bill-{uuid.uuid4().hex[:8]}"
    status, created = api.call("POST", "/v1/tenants", api.login(ADMIN), body={"name": f"Billing {slug}", "slug": slug, "plan": "pro", "currency": "KES"})
    assert status == 201, created
    return created


def as_admin(api, tenant_id, method, path, body=None, key=None):
    headers = {"X-Tenant-ID": tenant_id}
    if key:
        headers["Idempotency-Key"] = key
    return api.call(method, path, api.login(ADMIN), body=body, headers=headers)


def reserve(api, token, tenant_id, credits, then=None):
    reference = f"bt-{uuid.uuid4().hex}"
    headers = {"X-Tenant-ID": tenant_id}
    status, answer = api.call("POST", "/v1/credits/reservations", token, body={"reference": reference, "credits": credits}, headers=headers)
    assert status == 201, answer
    if then:
        status, answer = api.call("POST", f"/v1/credits/reservations/{reference}/{then}", token, headers=headers)
        assert status == 200, answer
    return reference


def credits(api, tenant_id):
    status, answer = as_admin(api, tenant_id, "GET", "/v1/credits")
    assert status == 200, answer
    return answer


# ---------- the page ----------

def no_dialog(driver):
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))


def shown(driver, key):
    return driver.find_element(By.CSS_SELECTOR, f'[data-total="{key}"]').get_attribute("data-value")


def billing_as(driver, base_url, api, email, tenant_id):
    """Platform staff name the tenant they act on, then land on the Billing page."""
    sign_in(driver, base_url, api, email=email, route="#/billing")
    page_ready(driver, "tenant")
    if driver.find_elements(By.ID, "tenant-select"):
        # a super admin chooses from the list
        wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#tenant-select option[value="{tenant_id}"]'))
        Select(driver.find_element(By.ID, "tenant-select")).select_by_value(tenant_id)
    else:
        field = wait(driver).until(EC.visibility_of_element_located((By.ID, "tenant-id")))
        field.clear()
        field.send_keys(tenant_id)
    driver.find_element(By.ID, "tenant-use").click()
    page_ready(driver, "billing")
    wait(driver).until(EC.presence_of_element_located((By.ID, "credits-svg")))


# ---------- tests ----------

def test_credits_and_their_chart_follow_the_api_a_low_balance_alerts_and_a_top_up_adds_once(browser, base_url, api, tenant, service_token):
    reserve(api, service_token, tenant["id"], 3, then="settle")
    reserve(api, service_token, tenant["id"], 2, then="settle")
    reserve(api, service_token, tenant["id"], 4, then="release")
    reserve(api, service_token, tenant["id"], 955)
    before = credits(api, tenant["id"])
    assert (before["used"], before["reserved"], before["available"]) == (5, 955, before["remaining"] - 955)
    assert before["available"] < before["lowThreshold"]

    driver = browser("desktop")
    billing_as(driver, base_url, api, ADMIN, tenant["id"])
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert links.index("billing") == links.index("insurance") + 1, links
    assert [shown(driver, k) for k in ("credits-remaining", "credits-reserved", "credits-available", "credits-used")] == [
        str(before["remaining"]), "955", str(before["available"]), "5"]
    # used per day: today's bar says 5, every other day of the 30 has none
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    bars = driver.find_elements(By.CSS_SELECTOR, "#credits-svg rect.bar")
    values = {b.get_attribute("data-day"): b.get_attribute("data-value") for b in bars}
    assert values.get(today) == "5", values
    assert len(bars) == 30 and set(v for d, v in values.items() if d != today) == {"0"}
    assert "5 credits used" in driver.find_element(By.CSS_SELECTOR, f'#credits-svg rect[data-day="{today}"] title').get_attribute("textContent")
    # the alert banner: running low
    banner = driver.find_element(By.ID, "credits-banner")
    assert banner.get_attribute("data-kind") == "low" and banner.get_attribute("role") == "alert"
    assert "running low" in banner.text and f"{before['available']} credits are available" in banner.text
    # a shorter period
    Select(driver.find_element(By.ID, "credits-days")).select_by_value("7")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#credits-svg rect.bar")) == 7)
    assert "days=7" in driver.execute_script("return location.hash")

    # a top-up by the super admin, double-clicked: added once
    click(driver, driver.find_element(By.ID, "credits-topup"))
    open_dialog(driver)
    driver.find_element(By.ID, "topup-credits").send_keys("500")
    driver.find_element(By.ID, "topup-reason").send_keys("Invoice 2026-117")
    ActionChains(driver).double_click(driver.find_element(By.CSS_SELECTOR, "dialog[open] button[type=submit]")).perform()
    no_dialog(driver)
    wait(driver).until(lambda d: shown(d, "credits-remaining") == str(before["remaining"] + 500))
    assert shown(driver, "credits-available") == str(before["available"] + 500)
    assert driver.find_element(By.ID, "credits-status-line").text == "500 credits added."
    time.sleep(0.5)  # a second top-up, had there been one, would be in by now
    after = credits(api, tenant["id"])
    topups = [e for e in after["events"] if e["kind"] == "topup"]
    assert len(topups) == 1 and topups[0]["credits"] == 500 and topups[0]["reason"] == "Invoice 2026-117", after["events"]
    assert after["remaining"] == before["remaining"] + 500
    # no longer low: the banner is gone, the top-up is listed
    assert not driver.find_elements(By.ID, "credits-banner")
    kinds = [e.get_attribute("data-kind") for e in driver.find_elements(By.CSS_SELECTOR, "#credits-events .credit-kind")]
    assert kinds[0] == "topup" and "grant" in kinds


def test_a_subscription_payment_in_the_sandbox_is_confirmed_and_its_receipt_shown(browser, base_url, api, tenant):
    status, view = as_admin(api, tenant["id"], "GET", "/v1/subscriptions")
    assert status == 200, view
    if not view["sandbox"]:
        pytest.skip("M-Pesa is not the sandbox here: a payment cannot be simulated")
    driver = browser("desktop")
    billing_as(driver, base_url, api, ADMIN, tenant["id"])
    assert driver.find_element(By.ID, "plan-none")
    assert driver.find_element(By.CSS_SELECTOR, "#payments-list .empty")
    # a wrong number is refused in plain words, nothing is started
    Select(driver.find_element(By.ID, "pay-plan")).select_by_value("pro")
    driver.find_element(By.ID, "pay-phone").send_keys("12345")
    click(driver, driver.find_element(By.ID, "pay-submit"))
    assert wait(driver).until(lambda d: d.find_element(By.ID, "pay-error").text)
    assert as_admin(api, tenant["id"], "GET", "/v1/subscriptions")[1]["payments"] == []
    # the prompt to a Safaricom number, for Pro
    phone = driver.find_element(By.ID, "pay-phone")
    phone.clear()
    phone.send_keys("+254712345678")
    click(driver, driver.find_element(By.ID, "pay-submit"))
    row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#payments-list tbody tr")))
    payment_id = row.get_attribute("data-id")
    assert row.find_element(By.CSS_SELECTOR, ".payment-status").get_attribute("data-status") == "pending"
    assert row.find_element(By.CSS_SELECTOR, ".payment-amount").get_attribute("data-amount") == "3000.00"
    assert "waiting for the answer" in driver.find_element(By.ID, "payments-status-line").text
    # the phone's answer, simulated: the callback, then the confirming query, then the receipt
    click(driver, row.find_element(By.CSS_SELECTOR, 'button[data-action="simulate-paid"]'))
    wait(driver, 40).until(lambda d: d.find_element(By.CSS_SELECTOR, f'#payments-list tr[data-id="{payment_id}"] .payment-status').get_attribute("data-status") == "succeeded")
    receipt = driver.find_element(By.CSS_SELECTOR, f'#payments-list tr[data-id="{payment_id}"] .payment-receipt').text
    status, view = as_admin(api, tenant["id"], "GET", "/v1/subscriptions")
    assert receipt and receipt == view["payments"][0]["receiptNumber"], (receipt, view)
    assert view["subscription"]["status"] == "active" and view["subscription"]["plan"] == "pro"
    # the plan: Pro, active, with the receipt
    wait(driver).until(lambda d: d.find_elements(By.ID, "plan-name"))
    assert driver.find_element(By.ID, "plan-name").get_attribute("data-plan") == "pro"
    assert driver.find_element(By.CSS_SELECTOR, "#plan-status .subscription-status").get_attribute("data-status") == "active"
    assert driver.find_element(By.ID, "plan-receipt").text == receipt
    assert not driver.find_elements(By.CSS_SELECTOR, f'#payments-list tr[data-id="{payment_id}"] button')


def test_a_tenant_admin_pays_but_does_not_top_up_and_read_only_staff_see_no_control_that_writes(browser, base_url, api):
    driver = browser("desktop")
    sign_in(driver, base_url, api, email=OWNER, route="#/billing", page="billing")
    wait(driver).until(EC.presence_of_element_located((By.ID, "credits-svg")))
    assert not driver.find_elements(By.ID, "credits-topup")
    assert driver.find_element(By.ID, "pay-form").is_displayed()
    status, answer = api.call("POST", "/v1/credits/topups", api.login(OWNER), body={"credits": 10, "reason": "x"}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 403, answer

    reader = browser("phone")
    sign_in(reader, base_url, api, email=READONLY, route="#/billing")
    page_ready(reader, "tenant")
    wait(reader).until(EC.visibility_of_element_located((By.ID, "tenant-id"))).send_keys(tenant_of(api))
    reader.find_element(By.ID, "tenant-use").click()
    page_ready(reader, "billing")
    wait(reader).until(EC.presence_of_element_located((By.ID, "credits-svg")))
    assert shown(reader, "credits-remaining")
    assert not reader.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    assert not reader.find_elements(By.ID, "credits-topup") and not reader.find_elements(By.ID, "pay-form")
    headers = {"X-Tenant-ID": tenant_of(api), "Idempotency-Key": str(uuid.uuid4())}
    status, answer = api.call("POST", "/v1/subscriptions", api.login(READONLY), body={"plan": "lite", "phone": "+254712345678"}, headers=headers)
    assert status == 403, answer


def test_billing_fits_a_360_pixel_phone(browser, base_url, api, tenant, service_token):
    reserve(api, service_token, tenant["id"], 7, then="settle")
    as_admin(api, tenant["id"], "POST", "/v1/subscriptions", body={"plan": "enterprise", "phone": "+254712345678"}, key=str(uuid.uuid4()))
    driver = browser("phone")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    billing_as(driver, base_url, api, ADMIN, tenant["id"])

    def overflow():
        return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")

    assert driver.execute_script("return document.documentElement.clientWidth") == 360
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#payments-list tbody tr"))
    assert overflow() <= 0
    svg_width = driver.execute_script("return document.getElementById('credits-svg').getBoundingClientRect().right")
    assert svg_width <= 360
    click(driver, driver.find_element(By.ID, "credits-topup"))
    open_dialog(driver)
    assert overflow() <= 0
