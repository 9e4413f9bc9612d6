"""The Marketplace pages of the admin console in a real Chromium, against marketplace-wallet. Every test names its
vendors, products and buyers with one fresh word (the demo database is shared and keeps everything), so a search
for that word shows exactly them. The whole flow goes through the pages: a vendor created and edited, a product
created and found by words and by metadata, a buyer created and topped up over the wallet API (a platform funding
account that may go below zero, then a top-up to the buyer's account), a product's commission schedule, an intent,
two quotes, the ranking with its score components and reasons, the accepted quote's purchase completed, and the
balances that follow on the Wallet page. Then: an accept the buyer cannot afford is refused in plain words and
changes nothing; a suspended vendor, a rejected quote, a purchase cancelled with a reason and one that fails
with its reason shown; read-only staff see it all with no control that writes; a 360-pixel phone scrolls nothing
sideways."""
import json
import random
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from console import OWNER, click, go, open_dialog, page_ready, sign_in, submit_dialog, tenant_of, wait

CURRENCY = "KES"
STAFF_READERS = ["readonly@sokoni.local", "support@sokoni.local"]


# ---------- the API ----------

def call(api, method, path, body=None, key=None, as_user=OWNER):
    headers = {"Idempotency-Key": key} if key else None
    return api.call(method, path, api.login(as_user), body=body, headers=headers)


def created(api, path, body):
    status, answer = call(api, "POST", path, body)
    assert status == 201, f"POST {path}: {status} {answer}"
    return answer


def phone():
    return "+2547" + "".join(random.choice("0123456789") for _ in range(8))


def vendor(api, word, name, **fields):
    body = {"name": f"{name} {word}", "currency": CURRENCY, "categories": ["fuel"], **fields}
    return created(api, "/v1/vendors", body)


def buyer(api, word, name="Buyer"):
    return created(api, "/v1/buyers", {"name": f"{name} {word}", "phone": phone(), "currency": CURRENCY})


def top_up(api, account_id, amount):
    """A platform funding account that may go below zero pays `amount` into the account (a top-up)."""
    status, funding = call(api, "POST", "/v1/wallet/accounts", {
        "ownerType": "platform", "ownerId": f"funding-{uuid.uuid4().hex[:10]}", "currency": CURRENCY, "allowNegative": True},
        key=str(uuid.uuid4()))
    assert status == 201, funding
    status, transfer = call(api, "POST", "/v1/wallet/transfers", {
        "type": "topup", "currency": CURRENCY, "legs": [{"from": funding["id"], "to": account_id, "amount": amount}]}, key=str(uuid.uuid4()))
    assert status == 201, transfer
    return transfer


def balance(api, account_id):
    status, account = call(api, "GET", f"/v1/wallet/accounts/{account_id}?entries=0")
    assert status == 200, account
    return account["balance"]["amount"], account["held"]["amount"]


def intent_for(api, buyer_id, **fields):
    return created(api, "/v1/intents", {"buyerId": buyer_id, "channel": "web", "category": "fuel", **fields})


def quote(api, intent_id, vendor_id, price, eta=30):
    return created(api, "/v1/quotes", {"intentId": intent_id, "vendorId": vendor_id, "price": price, "currency": CURRENCY, "etaMinutes": eta})


def get(api, path):
    status, answer = call(api, "GET", path)
    assert status == 200, f"GET {path}: {status} {answer}"
    return answer


@pytest.fixture
def word():
    return f"mk{uuid.uuid4().hex[:8]}"


# ---------- the page ----------

def no_dialog(driver):
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))


def type_into(driver, element_id, text):
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)
    return element


def choose(driver, element_id, value):
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#{element_id} option[value="{value}"]'))
    Select(driver.find_element(By.ID, element_id)).select_by_value(value)


def rows(driver, box):
    return driver.find_elements(By.CSS_SELECTOR, f"#{box} tbody tr")


def row_named(driver, box, css, text):
    def find(d):
        for tr in d.find_elements(By.CSS_SELECTOR, f"#{box} tbody tr"):
            if tr.find_element(By.CSS_SELECTOR, css).text == text:
                return tr
        return None
    return wait(driver).until(find)


def dialog_error(driver):
    return wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .form-error").text or None)


def status_of(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).get_attribute("data-status")


def total(driver, key):
    return driver.find_element(By.CSS_SELECTOR, f'[data-total="{key}"]').get_attribute("data-amount")


def sign_in_as_staff(driver, base_url, api, email, route):
    sign_in(driver, base_url, api, email=email, route=route)
    page_ready(driver, "tenant")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "tenant-id"))).send_keys(tenant_of(api))
    driver.find_element(By.ID, "tenant-use").click()


# ---------- tests ----------

def test_vendor_to_completed_purchase_through_the_pages(browser, base_url, api, word):
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/marketplace", page="marketplace")
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert "marketplace" in links and links.index("marketplace") == links.index("wallet") + 1, links
    tabs = [a.get_attribute("data-tab") for a in driver.find_elements(By.CSS_SELECTOR, "#market-subnav a")]
    assert tabs == ["vendors", "products", "buyers", "commission", "intents", "purchases"], tabs

    # a vendor created in its dialog, with what the ranking reads of it
    click(driver, driver.find_element(By.ID, "vendor-new"))
    open_dialog(driver)
    type_into(driver, "vendor-name", f"Kigali Fuel {word}")
    Select(driver.find_element(By.ID, "vendor-currency")).select_by_value(CURRENCY)
    type_into(driver, "vendor-region", "Nairobi")
    type_into(driver, "vendor-categories", "Fuel, gas")
    type_into(driver, "vendor-rating", "4.5")
    type_into(driver, "vendor-fulfilment", "90")
    type_into(driver, "vendor-response", "2")
    type_into(driver, "vendor-trips", "120")
    submit_dialog(driver)
    no_dialog(driver)
    first = row_named(driver, "vendors-list", ".vendor-name", f"Kigali Fuel {word}")
    assert first.find_element(By.CSS_SELECTOR, ".vendor-region").text == "Nairobi"
    assert first.find_element(By.CSS_SELECTOR, ".vendor-categories").text == "fuel, gas"
    assert first.find_element(By.CSS_SELECTOR, ".vendor-rating").text == "4.5 / 5"
    assert first.find_element(By.CSS_SELECTOR, ".vendor-fulfilment").text == "90 %"
    assert first.find_element(By.CSS_SELECTOR, ".vendor-response").text == "2 min"
    assert first.find_element(By.CSS_SELECTOR, ".vendor-trips").text == "120"
    assert "q=Kigali" in driver.execute_script("return location.hash")
    found = get(api, f"/v1/vendors?q={word}")["items"]
    assert len(found) == 1 and found[0]["rating"] == 4.5 and found[0]["fulfilmentRate"] == 0.9 and found[0]["avgResponseMs"] == 120000
    kigali = found[0]
    # edited: one more trip
    click(driver, first.find_element(By.CSS_SELECTOR, 'button[data-action="edit"]'))
    open_dialog(driver)
    assert driver.find_element(By.ID, "vendor-fulfilment").get_attribute("value") == "90"
    type_into(driver, "vendor-trips", "121")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: row_named(d, "vendors-list", ".vendor-name", f"Kigali Fuel {word}").find_element(By.CSS_SELECTOR, ".vendor-trips").text == "121")
    # a second vendor over the API: elsewhere, cheaper and slower
    other = vendor(api, word, "Coast Gas", region="Mombasa", rating=3.5)

    # a product created in its dialog, then found by words and by metadata
    go(driver, "#/marketplace/products", "marketplace/products")
    click(driver, driver.find_element(By.ID, "product-new"))
    open_dialog(driver)
    choose(driver, "product-vendor", kigali["id"])
    type_into(driver, "product-name", f"Diesel {word}")
    type_into(driver, "product-description", "Clean diesel by the litre")
    type_into(driver, "product-category", "fuel")
    type_into(driver, "product-price", "50.00")
    type_into(driver, "product-metadata", f"fuel=diesel, batch={word}")
    submit_dialog(driver)
    no_dialog(driver)
    product_row = row_named(driver, "products-list", ".product-name", f"Diesel {word}")
    assert product_row.find_element(By.CSS_SELECTOR, ".product-price").get_attribute("data-amount") == "50.00"
    assert product_row.find_element(By.CSS_SELECTOR, ".product-vendor").text == f"Kigali Fuel {word}"
    product = get(api, f"/v1/products?q={word}")["items"][0]
    assert product["metadata"] == {"fuel": "diesel", "batch": word}
    type_into(driver, "products-q", "")
    type_into(driver, "products-metadata", f"batch={word}")
    click(driver, driver.find_element(By.ID, "products-apply"))
    wait(driver).until(lambda d: [tr.get_attribute("data-id") for tr in rows(d, "products-list")] == [product["id"]])
    type_into(driver, "products-metadata", json.dumps({"batch": word, "fuel": "petrol"}))
    click(driver, driver.find_element(By.ID, "products-apply"))
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#products-list .empty"))
    type_into(driver, "products-metadata", "")
    type_into(driver, "products-q", "clean diesel")
    click(driver, driver.find_element(By.ID, "products-apply"))
    wait(driver).until(lambda d: product["id"] in [tr.get_attribute("data-id") for tr in rows(d, "products-list")])

    # its commission: 2.5 % and a flat fee of 1.00
    go(driver, "#/marketplace/commission", "marketplace/commission")
    click(driver, driver.find_element(By.ID, "schedule-new"))
    open_dialog(driver)
    choose(driver, "schedule-product", product["id"])
    type_into(driver, "schedule-rate", "2.5")
    type_into(driver, "schedule-fee", "1.00")
    submit_dialog(driver)
    no_dialog(driver)
    schedule_row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#schedules-list .schedule-scope[data-product="{product["id"]}"]')))
    tr = schedule_row.find_element(By.XPATH, "./ancestor::tr")
    assert tr.find_element(By.CSS_SELECTOR, ".schedule-rate").get_attribute("data-bps") == "250"
    assert tr.find_element(By.CSS_SELECTOR, ".schedule-rate").text == "2.5 %"
    assert tr.find_element(By.CSS_SELECTOR, ".schedule-fee").get_attribute("data-amount") == "1.00"
    assert tr.find_element(By.CSS_SELECTOR, ".schedule-state").get_attribute("data-state") == "in-force"

    # a buyer created in its dialog, topped up with 100.00 over the wallet API
    go(driver, "#/marketplace/buyers", "marketplace/buyers")
    click(driver, driver.find_element(By.ID, "buyer-new"))
    open_dialog(driver)
    number = phone()
    type_into(driver, "buyer-name", f"Amina {word}")
    type_into(driver, "buyer-phone", number)
    Select(driver.find_element(By.ID, "buyer-currency")).select_by_value(CURRENCY)
    submit_dialog(driver)
    no_dialog(driver)
    row_named(driver, "buyers-list", ".buyer-name", f"Amina {word}")
    amina = get(api, f"/v1/buyers?phone={number.replace('+', '%2B')}")["items"][0]
    top_up(api, amina["accountId"], "100.00")

    # an intent for her, created in its dialog: the page goes to it
    go(driver, "#/marketplace/intents", "marketplace/intents")
    click(driver, driver.find_element(By.ID, "intent-new"))
    open_dialog(driver)
    choose(driver, "intent-buyer", amina["id"])
    type_into(driver, "intent-category", "fuel")
    type_into(driver, "intent-region", "Nairobi")
    choose(driver, "intent-product", product["id"])
    type_into(driver, "intent-description", "200 litres for the fleet")
    submit_dialog(driver)
    page_ready(driver, "marketplace/intents/:id")
    intent_id = driver.execute_script("return location.hash").split("/")[-1]
    assert f"Amina {word}" in driver.find_element(By.CSS_SELECTOR, "#main h1").text

    # two quotes, one per vendor, added in the page
    for count, (chosen, price, eta) in enumerate(((kigali, "50.00", "30"), (other, "40.00", "90")), start=1):
        click(driver, wait(driver).until(EC.element_to_be_clickable((By.ID, "quote-new"))))
        open_dialog(driver)
        choose(driver, "quote-vendor", chosen["id"])
        if chosen is kigali:
            choose(driver, "quote-product", product["id"])
        type_into(driver, "quote-price", price)
        type_into(driver, "quote-eta", eta)
        submit_dialog(driver)
        no_dialog(driver)
        # the page is drawn again with the new quote before the next one is added
        wait(driver).until(lambda d, count=count: len(rows(d, "intent-quotes")) == count)
        wait(driver).until(lambda d: d.find_element(By.ID, "intent-status-line").get_attribute("data-kind") == "ok")
    stored = get(api, f"/v1/intents/{intent_id}")
    assert {q["vendorId"]: q["price"]["amount"] for q in stored["quotes"]} == {kigali["id"]: "50.00", other["id"]: "40.00"}

    # the ranking: Kigali first (category, region, rating, fulfilment), each component a bar, the reasons in words
    ranked = driver.find_elements(By.CSS_SELECTOR, "#intent-ranking > li")
    order = [li.get_attribute("data-vendor") for li in ranked]
    assert order.index(kigali["id"]) < order.index(other["id"]), order
    assert order[: len(stored["ranking"][:12])] == [r["vendorId"] for r in stored["ranking"][:12]]
    top = driver.find_element(By.CSS_SELECTOR, f'#intent-ranking li[data-vendor="{kigali["id"]}"]')
    expected = next(r for r in stored["ranking"] if r["vendorId"] == kigali["id"])
    assert float(top.get_attribute("data-score")) == expected["score"]
    components = {c.get_attribute("data-component"): float(c.get_attribute("data-value")) for c in top.find_elements(By.CSS_SELECTOR, ".rank-component")}
    assert components == expected["components"], components
    assert top.find_element(By.CSS_SELECTOR, '.rank-component[data-component="region"] meter').get_attribute("value") == "0.15"
    reasons = [li.text for li in top.find_elements(By.CSS_SELECTOR, ".rank-reasons li")]
    assert reasons == expected["reasons"] and "sells fuel" in reasons and "in Nairobi" in reasons, reasons
    assert "fastest (30 min)" in reasons
    cheaper = driver.find_element(By.CSS_SELECTOR, f'#intent-ranking li[data-vendor="{other["id"]}"]')
    assert "cheapest quote (40.00 KES)" in cheaper.text
    assert "Score" in top.find_element(By.CSS_SELECTOR, ".rank-score").text

    # Kigali's quote accepted: the purchase opens with the commission of the product's schedule
    kigali_quote = next(q for q in stored["quotes"] if q["vendorId"] == kigali["id"])
    click(driver, driver.find_element(By.CSS_SELECTOR, f'#intent-quotes tr[data-id="{kigali_quote["id"]}"] button[data-action="accept"]'))
    open_dialog(driver)
    submit_dialog(driver)
    page_ready(driver, "marketplace/purchases/:id")
    assert total(driver, "purchase-amount") == "50.00"
    assert total(driver, "purchase-commission") == "2.25"
    assert total(driver, "purchase-net") == "47.75"
    assert status_of(driver, "#purchase-status .market-status") == "pending"
    assert status_of(driver, "#purchase-hold") == "pending"
    assert "2.5 %" in driver.find_element(By.ID, "purchase-schedule").text
    assert balance(api, amina["accountId"]) == ("100.00", "50.00")
    assert [q["status"] for q in get(api, f"/v1/intents/{intent_id}")["quotes"] if q["vendorId"] == other["id"]] == ["rejected"]

    # completed: the hold is posted, the vendor is paid less the commission
    click(driver, driver.find_element(By.ID, "purchase-complete"))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: status_of(d, "#purchase-status .market-status") == "completed")
    assert driver.find_element(By.ID, "purchase-status-line").get_attribute("data-kind") == "ok"
    assert status_of(driver, "#purchase-hold") == "posted"
    assert driver.find_element(By.ID, "purchase-transfer").text
    assert not driver.find_elements(By.ID, "purchase-complete") and not driver.find_elements(By.ID, "purchase-cancel")
    assert balance(api, amina["accountId"]) == ("50.00", "0.00")
    assert balance(api, kigali["accountId"]) == ("47.75", "0.00")

    # the vendor's balance on the Wallet page
    click(driver, driver.find_element(By.CSS_SELECTOR, f'#purchase-vendor a[data-account="{kigali["accountId"]}"]'))
    page_ready(driver, "wallet/:id")
    assert driver.find_element(By.CSS_SELECTOR, '[data-total="account-balance"]').get_attribute("data-amount") == "47.75"
    # and in the purchases list, completed
    go(driver, "#/marketplace/purchases?status=completed", "marketplace/purchases")
    assert driver.find_element(By.ID, "purchases-status").get_attribute("value") == "completed"
    purchase_id = get(api, f"/v1/intents/{intent_id}")["purchaseId"]
    listed = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#purchases-list tr[data-id="{purchase_id}"]')))
    assert listed.find_element(By.CSS_SELECTOR, ".purchase-net").get_attribute("data-amount") == "47.75"


def test_an_accept_the_buyer_cannot_afford_is_refused_in_plain_words_and_changes_nothing(browser, base_url, api, word):
    seller = vendor(api, word, "Pricey Fuel", region="Kigali")
    poor = buyer(api, word, "Poor")
    top_up(api, poor["accountId"], "10.00")
    intent = intent_for(api, poor["id"], region="Kigali")
    offer = quote(api, intent["id"], seller["id"], "50.00")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/marketplace/intents/{intent['id']}", page="marketplace/intents/:id")
    click(driver, wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#intent-quotes tr[data-id="{offer["id"]}"] button[data-action="accept"]'))))
    open_dialog(driver)
    submit_dialog(driver)
    message = dialog_error(driver)
    assert "Insufficient funds" in message and f"Poor {word}" in message and "10.00" in message and "50.00" in message, message
    assert "Nothing was accepted" in message
    # nothing changed: the intent is open, the quote pending, no purchase, nothing held
    after = get(api, f"/v1/intents/{intent['id']}")
    assert after["status"] == "pending" and after.get("purchaseId") is None
    assert [q["status"] for q in after["quotes"]] == ["pending"]
    assert get(api, f"/v1/purchases?buyerId={poor['id']}")["items"] == []
    assert balance(api, poor["accountId"]) == ("10.00", "0.00")
    driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]").click()
    no_dialog(driver)
    assert driver.find_elements(By.CSS_SELECTOR, f'#intent-quotes tr[data-id="{offer["id"]}"] button[data-action="accept"]')


def test_suspend_reject_cancel_with_a_reason_and_a_failed_purchase_shows_why(browser, base_url, api, word):
    good = vendor(api, word, "Good Fuel")
    bad = vendor(api, word, "Bad Fuel")
    rich = buyer(api, word, "Rich")
    top_up(api, rich["accountId"], "500.00")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/marketplace?q={word}", page="marketplace")
    wait(driver).until(lambda d: len(rows(d, "vendors-list")) == 2)

    # a vendor suspended (then left out of new quotes)
    bad_row = row_named(driver, "vendors-list", ".vendor-name", f"Bad Fuel {word}")
    click(driver, bad_row.find_element(By.CSS_SELECTOR, 'button[data-action="suspend"]'))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: status_of(d, f'#vendors-list tr[data-id="{bad["id"]}"] .market-status') == "suspended")
    assert get(api, f"/v1/vendors/{bad['id']}")["status"] == "suspended"
    assert row_named(driver, "vendors-list", ".vendor-name", f"Bad Fuel {word}").find_elements(By.CSS_SELECTOR, 'button[data-action="reactivate"]')

    # a quote rejected in the intent's page
    first = intent_for(api, rich["id"])
    rejected = quote(api, first["id"], good["id"], "20.00")
    go(driver, f"#/marketplace/intents/{first['id']}", "marketplace/intents/:id")
    click(driver, driver.find_element(By.CSS_SELECTOR, f'#intent-quotes tr[data-id="{rejected["id"]}"] button[data-action="reject"]'))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: status_of(d, f'#intent-quotes tr[data-id="{rejected["id"]}"] .market-status') == "rejected")
    assert get(api, f"/v1/quotes/{rejected['id']}")["status"] == "rejected"
    # the intent cancelled
    click(driver, driver.find_element(By.ID, "intent-cancel"))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: get(api, f"/v1/intents/{first['id']}")["status"] == "cancelled")
    wait(driver).until(lambda d: not d.find_elements(By.ID, "quote-new"))

    # a purchase cancelled with a reason: the buyer's funds are released
    second = intent_for(api, rich["id"])
    offer = quote(api, second["id"], good["id"], "30.00")
    status, purchase = call(api, "POST", f"/v1/quotes/{offer['id']}/accept")
    assert status == 201, purchase
    assert balance(api, rich["accountId"]) == ("500.00", "30.00")
    go(driver, f"#/marketplace/purchases/{purchase['id']}", "marketplace/purchases/:id")
    click(driver, driver.find_element(By.ID, "purchase-cancel"))
    open_dialog(driver)
    reason = driver.find_element(By.CSS_SELECTOR, "dialog[open] textarea[name=reason]")
    submit_dialog(driver)
    assert driver.execute_script("return arguments[0].validity.valueMissing", reason)
    reason.send_keys("Buyer changed their mind")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: status_of(d, "#purchase-status .market-status") == "cancelled")
    assert driver.find_element(By.ID, "purchase-failure").text == "Buyer changed their mind"
    assert status_of(driver, "#purchase-hold") == "voided"
    assert balance(api, rich["accountId"]) == ("500.00", "0.00")

    # a purchase whose vendor account is frozen: completing fails, and the page says why
    third = intent_for(api, rich["id"])
    offer = quote(api, third["id"], good["id"], "25.00")
    status, purchase = call(api, "POST", f"/v1/quotes/{offer['id']}/accept")
    assert status == 201, purchase
    status, frozen = call(api, "PATCH", f"/v1/wallet/accounts/{good['accountId']}", {"status": "frozen", "reason": "Under review"})
    assert status == 200, frozen
    go(driver, f"#/marketplace/purchases/{purchase['id']}", "marketplace/purchases/:id")
    click(driver, driver.find_element(By.ID, "purchase-complete"))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: status_of(d, "#purchase-status .market-status") == "failed")
    assert driver.find_element(By.ID, "purchase-status-line").get_attribute("data-kind") == "error"
    assert driver.find_element(By.ID, "purchase-failure").text
    assert get(api, f"/v1/purchases/{purchase['id']}")["status"] == "failed"
    assert balance(api, rich["accountId"]) == ("500.00", "0.00")
    assert not driver.find_elements(By.ID, "purchase-complete")


@pytest.mark.parametrize("email", STAFF_READERS)
def test_read_only_staff_see_the_marketplace_with_no_control_that_writes(browser, base_url, api, word, email):
    seller = vendor(api, word, "Seen Fuel", region="Kigali")
    created(api, "/v1/products", {"vendorId": seller["id"], "name": f"Petrol {word}", "price": "12.00", "metadata": {"fuel": "petrol"}})
    someone = buyer(api, word, "Seen")
    top_up(api, someone["accountId"], "100.00")
    intent = intent_for(api, someone["id"])
    offer = quote(api, intent["id"], seller["id"], "12.00")
    status, purchase = call(api, "POST", f"/v1/quotes/{offer['id']}/accept")
    assert status == 201, purchase
    driver = browser("phone")
    sign_in_as_staff(driver, base_url, api, email, f"#/marketplace?q={word}")
    page_ready(driver, "marketplace")
    wait(driver).until(lambda d: len(rows(d, "vendors-list")) == 1)
    pages = ((f"#/marketplace?q={word}", "marketplace", "vendors-list"), (f"#/marketplace/products?q={word}", "marketplace/products", "products-list"),
             ("#/marketplace/buyers", "marketplace/buyers", "buyers-list"), ("#/marketplace/commission", "marketplace/commission", None),
             ("#/marketplace/intents", "marketplace/intents", "intents-list"), ("#/marketplace/purchases", "marketplace/purchases", "purchases-list"),
             (f"#/marketplace/intents/{intent['id']}", "marketplace/intents/:id", "intent-quotes"),
             (f"#/marketplace/purchases/{purchase['id']}", "marketplace/purchases/:id", None))
    for route, page, box in pages:
        go(driver, route, page)
        if box:
            wait(driver).until(lambda d, box=box: rows(d, box))
        assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]"), f"{route} shows a write control"
    assert total(driver, "purchase-amount") == "12.00"
    assert not driver.find_elements(By.ID, "purchase-complete") and not driver.find_elements(By.ID, "purchase-cancel")
    menu = driver.find_element(By.ID, "menu-toggle")
    menu.click()
    assert driver.find_element(By.CSS_SELECTOR, '#nav a[data-route="marketplace"]').is_displayed()
    menu.click()
    # the API refuses their writes whatever the page shows
    headers = {"X-Tenant-ID": tenant_of(api)}
    token = api.login(email)
    for method, path, body in (("POST", "/v1/vendors", {"name": "x", "currency": CURRENCY}), ("PATCH", f"/v1/vendors/{seller['id']}", {"status": "suspended"}),
                               ("POST", f"/v1/purchases/{purchase['id']}/complete", None)):
        status, answer = api.call(method, path, token, body=body, headers=headers)
        assert status == 403, f"{method} {path} as {email}: {status} {answer}"


def test_the_marketplace_fits_a_360_pixel_phone(browser, base_url, api, word):
    seller = vendor(api, word, "A vendor with a rather long name for a narrow screen", region="Kigali", rating=4.8, fulfilmentRate=0.97,
                    avgResponseMs=90000, categories=["fuel", "lubricants", "spare-parts-and-accessories"])
    created(api, "/v1/products", {"vendorId": seller["id"], "name": f"Product {word}", "price": "1234567.89",
                                  "metadata": {"fuel": "diesel", "a-long-key": "a long value that must wrap on a phone"}})
    someone = buyer(api, word, "Narrow")
    top_up(api, someone["accountId"], "9999999.00")
    intent = intent_for(api, someone["id"], region="Kigali", description="A long description of what is wanted, to wrap on a narrow screen")
    offer = quote(api, intent["id"], seller["id"], "1234567.89", eta=45)
    driver = browser("phone")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    sign_in(driver, base_url, api, route=f"#/marketplace?q={word}", page="marketplace")

    def overflow():
        return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")

    assert driver.execute_script("return document.documentElement.clientWidth") == 360
    wait(driver).until(lambda d: len(rows(d, "vendors-list")) == 1)
    assert overflow() <= 0
    click(driver, driver.find_element(By.ID, "vendor-new"))
    open_dialog(driver)
    assert overflow() <= 0
    driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]").click()
    no_dialog(driver)
    go(driver, f"#/marketplace/products?q={word}", "marketplace/products")
    wait(driver).until(lambda d: len(rows(d, "products-list")) == 1)
    assert overflow() <= 0
    go(driver, f"#/marketplace/intents/{intent['id']}", "marketplace/intents/:id")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#intent-ranking li"))
    assert overflow() <= 0
    status, purchase = call(api, "POST", f"/v1/quotes/{offer['id']}/accept")
    assert status == 201, purchase
    go(driver, f"#/marketplace/purchases/{purchase['id']}", "marketplace/purchases/:id")
    assert overflow() <= 0
