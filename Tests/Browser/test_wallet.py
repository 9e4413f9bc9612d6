"""The Wallet page of the admin console in a real Chromium, against the ledger of marketplace-wallet. Each test opens
its own accounts over the API (a platform funding account that may go below zero, a buyer and a vendor, all with
one fresh owner id so the page's owner-id filter shows exactly them; the demo database is shared and a ledger
keeps everything) and tops the buyer up from the funding account. Then, in the page: an adjustment posted with a
double click moves the balances once; an overdraw is refused with the insufficient-funds words and changes
nothing, as is a posting to a frozen account; the statement shows the running balance, its totals, and the CSV
that downloads is the API's, row for row; the ledger check is green with each currency's sum at zero; a transfer
is reversed with a reason; read-only staff see it all with no control that writes; a 360-pixel phone scrolls
nothing sideways."""
import csv
import datetime
import io
import pathlib
import time
import uuid

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from console import OWNER, click, go, open_dialog, page_ready, sign_in, submit_dialog, tenant_of, wait

CURRENCY = "KES"
STAFF_READERS = ["readonly@sokoni.local", "support@sokoni.local", "dataops@sokoni.local"]


# ---------- the API ----------

def call(api, method, path, body=None, key=None, as_user=OWNER):
    headers = {"Idempotency-Key": key} if key else None
    return api.call(method, path, api.login(as_user), body=body, headers=headers)


def open_account(api, owner_type, owner_id, name, allow_negative=False):
    body = {"ownerType": owner_type, "ownerId": owner_id, "currency": CURRENCY, "name": name}
    if allow_negative:
        body["allowNegative"] = True
    status, account = call(api, "POST", "/v1/wallet/accounts", body, key=str(uuid.uuid4()))
    assert status == 201, f"opening a {owner_type} account: {status} {account}"
    return account


def post(api, kind, payer, payee, amount, reason=None):
    body = {"type": kind, "currency": CURRENCY, "legs": [{"from": payer["id"], "to": payee["id"], "amount": amount}]}
    if reason:
        body["reason"] = reason
    status, transfer = call(api, "POST", "/v1/wallet/transfers", body, key=str(uuid.uuid4()))
    assert status == 201, f"posting {kind} {amount}: {status} {transfer}"
    return transfer


def account(api, account_id):
    status, found = call(api, "GET", f"/v1/wallet/accounts/{account_id}?entries=50")
    assert status == 200, found
    return found


def balances(api, ledger):
    return {role: account(api, ledger[role]["id"])["balance"]["amount"] for role in ("funding", "buyer", "vendor")}


def transfers_of(api, account_id, kind=None):
    status, page = call(api, "GET", f"/v1/wallet/transfers?accountId={account_id}&limit=200" + (f"&type={kind}" if kind else ""))
    assert status == 200, page
    return page["items"]


@pytest.fixture
def ledger(api):
    """Three fresh accounts sharing one owner id (funding, buyer, vendor) and a 100.00 top-up of the buyer."""
    owner = f"bt-{uuid.uuid4().hex[:10]}"
    funding = open_account(api, "platform", owner, f"Funding {owner}", allow_negative=True)
    buyer = open_account(api, "buyer", owner, f"Buyer {owner}")
    vendor = open_account(api, "vendor", owner, f"Vendor {owner}")
    topup = post(api, "topup", funding, buyer, "100.00")
    return {"owner": owner, "funding": funding, "buyer": buyer, "vendor": vendor, "topup": topup}


# ---------- the page ----------

def no_dialog(driver):
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))


def type_into(driver, element_id, text):
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)
    return element


def wallet_list(driver, base_url, api, ledger, email=OWNER):
    sign_in(driver, base_url, api, email=email, route=f"#/wallet?ownerId={ledger['owner']}", page="wallet")


def row(driver, account_id):
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#wallet-accounts tr[data-id="{account_id}"]')))


def shown(driver, account_id, kind):
    """What the list shows as an account's balance, held or available amount (the API's decimal string)."""
    return row(driver, account_id).find_element(By.CSS_SELECTOR, f".wallet-{kind}").get_attribute("data-amount")


def wait_shown(driver, account_id, kind, amount):
    wait(driver).until(lambda d: shown(d, account_id, kind) == amount)


def total(driver, key):
    return driver.find_element(By.CSS_SELECTOR, f'[data-total="{key}"]').get_attribute("data-amount")


def fill_adjustment(driver, payer, payee, amount, reason):
    dialog = open_dialog(driver)
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#adjust-from option[value="{payer["id"]}"]'))
    Select(driver.find_element(By.ID, "adjust-from")).select_by_value(payer["id"])
    Select(driver.find_element(By.ID, "adjust-to")).select_by_value(payee["id"])
    type_into(driver, "adjust-amount", amount)
    type_into(driver, "adjust-reason", reason)
    return dialog


def dialog_error(driver):
    return wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .form-error").text or None)


def account_page(driver, account_id):
    return go(driver, f"#/wallet/{account_id}", "wallet/:id")


def sign_in_as_staff(driver, base_url, api, email, route):
    """Platform staff who cannot list tenants name the one they act on, then land where they were going."""
    sign_in(driver, base_url, api, email=email, route=route)
    page_ready(driver, "tenant")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "tenant-id"))).send_keys(tenant_of(api))
    driver.find_element(By.ID, "tenant-use").click()


# ---------- tests ----------

def test_accounts_are_listed_and_a_double_clicked_adjustment_moves_the_balances_once(browser, base_url, api, ledger):
    driver = browser("desktop")
    wallet_list(driver, base_url, api, ledger)
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert "wallet" in links and links.index("wallet") == links.index("costs") + 1, links
    # exactly this owner's three accounts, each with its balance, held and available amounts
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#wallet-accounts tbody tr")) == 3)
    assert shown(driver, ledger["funding"]["id"], "balance") == "-100.00"
    assert shown(driver, ledger["buyer"]["id"], "balance") == "100.00"
    assert shown(driver, ledger["buyer"]["id"], "held") == "0.00"
    assert shown(driver, ledger["buyer"]["id"], "available") == "100.00"
    assert shown(driver, ledger["vendor"]["id"], "balance") == "0.00"
    # the owner-type filter narrows the list (and lives in the address)
    Select(driver.find_element(By.ID, "wallet-owner-type")).select_by_value("vendor")
    click(driver, driver.find_element(By.ID, "wallet-apply"))
    wait(driver).until(lambda d: [tr.get_attribute("data-id") for tr in d.find_elements(By.CSS_SELECTOR, "#wallet-accounts tbody tr")]
                       == [ledger["vendor"]["id"]])
    assert "ownerType=vendor" in driver.execute_script("return location.hash")
    Select(driver.find_element(By.ID, "wallet-owner-type")).select_by_value("")
    click(driver, driver.find_element(By.ID, "wallet-apply"))
    row(driver, ledger["buyer"]["id"])

    # an adjustment from the buyer to the vendor, submitted with a double click: posted once
    reason = f"Goodwill credit {ledger['owner']}"
    click(driver, driver.find_element(By.ID, "wallet-adjust"))
    fill_adjustment(driver, ledger["buyer"], ledger["vendor"], "25.50", reason)
    assert "100.00" in driver.find_element(By.ID, "adjust-available").text
    submit = driver.find_element(By.CSS_SELECTOR, "dialog[open] button[type=submit]")
    ActionChains(driver).double_click(submit).perform()
    no_dialog(driver)
    wait_shown(driver, ledger["buyer"]["id"], "balance", "74.50")
    wait_shown(driver, ledger["vendor"]["id"], "balance", "25.50")
    assert shown(driver, ledger["vendor"]["id"], "available") == "25.50"
    wait(driver).until(lambda d: d.find_element(By.ID, "wallet-status").get_attribute("data-kind") == "ok")
    time.sleep(0.5)  # a second posting, had there been one, would be in by now
    adjustments = transfers_of(api, ledger["vendor"]["id"], "adjustment")
    assert len(adjustments) == 1, adjustments
    assert adjustments[0]["reason"] == reason and adjustments[0]["currency"] == CURRENCY
    assert balances(api, ledger) == {"funding": "-100.00", "buyer": "74.50", "vendor": "25.50"}

    # the account's page: its balance and its newest entry, the adjustment with its reason
    click(driver, row(driver, ledger["vendor"]["id"]).find_element(By.CSS_SELECTOR, "a.wallet-account-link"))
    page_ready(driver, "wallet/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == f"Vendor {ledger['owner']}"
    assert total(driver, "account-balance") == "25.50"
    entries = driver.find_elements(By.CSS_SELECTOR, "#account-entries tbody tr")
    assert len(entries) == 1 and entries[0].get_attribute("data-transfer") == adjustments[0]["id"]
    assert entries[0].find_element(By.CSS_SELECTOR, ".wallet-type").get_attribute("data-type") == "adjustment"
    assert entries[0].find_element(By.CSS_SELECTOR, ".wallet-reason").text == reason
    assert entries[0].find_element(By.CSS_SELECTOR, ".wallet-credit").get_attribute("data-amount") == "25.50"


def test_an_overdraw_or_a_frozen_account_is_refused_in_plain_words_and_changes_nothing(browser, base_url, api, ledger):
    driver = browser("desktop")
    wallet_list(driver, base_url, api, ledger)
    row(driver, ledger["buyer"]["id"])
    before = balances(api, ledger)

    # one cent more than the buyer has
    click(driver, driver.find_element(By.ID, "wallet-adjust"))
    fill_adjustment(driver, ledger["buyer"], ledger["vendor"], "100.01", "Too much")
    submit_dialog(driver)
    message = dialog_error(driver)
    assert "Insufficient funds" in message and "100.00" in message and f"Buyer {ledger['owner']}" in message, message
    assert "Nothing was posted" in message
    assert balances(api, ledger) == before
    assert transfers_of(api, ledger["vendor"]["id"]) == []
    # corrected in the same dialog, it posts (a new attempt: the refused one posted nothing under its key)
    type_into(driver, "adjust-amount", "100.00")
    submit_dialog(driver)
    no_dialog(driver)
    wait_shown(driver, ledger["vendor"]["id"], "balance", "100.00")
    wait_shown(driver, ledger["buyer"]["id"], "balance", "0.00")

    # the vendor frozen in its page, with a reason: a posting to it is refused, naming it
    account_page(driver, ledger["vendor"]["id"])
    click(driver, driver.find_element(By.ID, "account-freeze"))
    open_dialog(driver)
    driver.find_element(By.CSS_SELECTOR, "dialog[open] textarea[name=reason]").send_keys("Under review")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "#account-summary .wallet-status").get_attribute("data-status") == "frozen")
    assert account(api, ledger["vendor"]["id"])["status"] == "frozen"
    assert driver.find_elements(By.ID, "account-unfreeze") and not driver.find_elements(By.ID, "account-freeze")
    post(api, "topup", ledger["funding"], ledger["buyer"], "10.00")
    before = balances(api, ledger)
    go(driver, f"#/wallet?ownerId={ledger['owner']}", "wallet")
    click(driver, driver.find_element(By.ID, "wallet-adjust"))
    fill_adjustment(driver, ledger["buyer"], ledger["vendor"], "1.00", "To a frozen account")
    submit_dialog(driver)
    message = dialog_error(driver)
    assert f"Vendor {ledger['owner']} is frozen" in message and "Nothing was posted" in message, message
    assert balances(api, ledger) == before
    driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]").click()
    no_dialog(driver)

    # unfrozen again
    account_page(driver, ledger["vendor"]["id"])
    click(driver, driver.find_element(By.ID, "account-unfreeze"))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "#account-summary .wallet-status").get_attribute("data-status") == "active")
    assert account(api, ledger["vendor"]["id"])["status"] == "active"


def test_the_statement_shows_the_running_balance_and_downloads_the_apis_csv(browser, base_url, api, ledger, tmp_path):
    post(api, "adjustment", ledger["buyer"], ledger["vendor"], "30.00", reason="First, with a comma, and \"quotes\"")
    post(api, "adjustment", ledger["buyer"], ledger["vendor"], "20.25", reason="Second")
    driver = browser("desktop")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    sign_in(driver, base_url, api, route=f"#/wallet/{ledger['buyer']['id']}", page="wallet/:id")
    lines = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#statement-lines tbody tr[data-kind="line"]'))
    assert [tr.find_element(By.CSS_SELECTOR, ".statement-balance").get_attribute("data-amount") for tr in lines] == ["100.00", "70.00", "49.75"]
    assert [tr.find_element(By.CSS_SELECTOR, ".wallet-type").get_attribute("data-type") for tr in lines] == ["topup", "adjustment", "adjustment"]
    assert lines[1].find_element(By.CSS_SELECTOR, ".wallet-debit").get_attribute("data-amount") == "30.00"
    assert lines[0].find_element(By.CSS_SELECTOR, ".wallet-credit").get_attribute("data-amount") == "100.00"
    opening = driver.find_element(By.CSS_SELECTOR, '#statement-lines tr[data-kind="opening"] .statement-balance').get_attribute("data-amount")
    closing = driver.find_element(By.CSS_SELECTOR, '#statement-lines tr[data-kind="closing"] .statement-balance').get_attribute("data-amount")
    assert (opening, closing) == ("0.00", "49.75")
    assert [total(driver, k) for k in ("statement-opening", "statement-debits", "statement-credits", "statement-closing")] == [
        "0.00", "50.25", "100.00", "49.75"]

    # the CSV: downloaded, and the API's own bytes for the same period
    start = driver.find_element(By.ID, "statement-from").get_attribute("value")
    end = driver.find_element(By.ID, "statement-to").get_attribute("value")
    click(driver, driver.find_element(By.ID, "statement-csv"))
    link = wait(driver).until(EC.visibility_of_element_located((By.ID, "statement-download")))
    # the file is named as the API names it: the account, the first day and the (exclusive) day after the last
    to = (datetime.date.fromisoformat(end) + datetime.timedelta(days=1)).isoformat()
    name = link.get_attribute("download")
    assert name == f"statement-{ledger['buyer']['id']}-{start}-{to}.csv", name
    path = pathlib.Path(tmp_path) / name
    deadline = time.time() + 20
    while not path.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert path.exists(), list(pathlib.Path(tmp_path).iterdir())
    downloaded = path.read_bytes().decode()
    status, expected = call(api, "GET", f"/v1/wallet/statements?accountId={ledger['buyer']['id']}&from={start}&to={to}&format=csv")
    assert status == 200 and isinstance(expected, str), expected
    assert downloaded == expected
    assert link.get_attribute("data-bytes") == str(len(expected.encode()))
    rows = list(csv.reader(io.StringIO(downloaded)))
    assert rows[0] == ["at", "transaction_id", "type", "reference", "reason", "debit", "credit", "balance", "currency"]
    assert [r[2] for r in rows[1:]] == ["opening", "topup", "adjustment", "adjustment", "closing"]
    assert [r[7] for r in rows[1:]] == ["0.00", "100.00", "70.00", "49.75", "49.75"]
    assert rows[3][4] == "First, with a comma, and \"quotes\"" and rows[3][5] == "30.00"
    assert rows[-1][5:7] == ["50.25", "100.00"]


def test_the_ledger_check_is_green_with_every_currency_summing_to_zero(browser, base_url, api, ledger):
    status, report = call(api, "GET", "/v1/wallet/invariants")
    assert status == 200 and report["holds"] is True, report
    driver = browser("desktop")
    wallet_list(driver, base_url, api, ledger)
    box = wait(driver).until(EC.visibility_of_element_located((By.ID, "wallet-invariant")))
    assert box.get_attribute("data-holds") == "true"
    assert "The books balance" in driver.find_element(By.ID, "wallet-invariant-state").text
    # green: the colour says it as well as the words
    colour = driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", box)
    assert colour == "rgb(221, 242, 228)", colour
    sums = {tr.get_attribute("data-id"): tr.find_element(By.CSS_SELECTOR, ".wallet-sum").get_attribute("data-sum")
            for tr in driver.find_elements(By.CSS_SELECTOR, "#wallet-invariants tbody tr")}
    assert sums.get(CURRENCY) == "0" and set(sums.values()) == {"0"}, sums
    assert set(sums) == {c["currency"] for c in report["currencies"]}
    assert not driver.find_elements(By.ID, "wallet-problems")
    # checked again after a posting: still green
    post(api, "adjustment", ledger["buyer"], ledger["vendor"], "5.00", reason="Check again")
    click(driver, driver.find_element(By.ID, "wallet-check"))
    wait(driver).until(lambda d: d.find_element(By.ID, "wallet-invariant").get_attribute("data-holds") == "true")


def test_a_transfer_is_reversed_in_the_page_with_a_reason(browser, base_url, api, ledger):
    transfer = post(api, "adjustment", ledger["buyer"], ledger["vendor"], "10.00", reason="Posted by mistake")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/wallet/{ledger['vendor']['id']}", page="wallet/:id")
    assert total(driver, "account-balance") == "10.00"
    entry = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#account-entries tr[data-transfer="{transfer["id"]}"]')))
    click(driver, entry.find_element(By.CSS_SELECTOR, 'button[data-action="reverse"]'))
    open_dialog(driver)
    # a reason is required: the form is not sent without one
    reason = driver.find_element(By.CSS_SELECTOR, "dialog[open] textarea[name=reason]")
    submit_dialog(driver)
    assert driver.execute_script("return arguments[0].validity.valueMissing", reason)
    assert driver.find_elements(By.CSS_SELECTOR, "dialog[open]") and transfers_of(api, ledger["vendor"]["id"], "reversal") == []
    reason.send_keys("Wrong vendor")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: total(d, "account-balance") == "0.00")
    assert driver.find_element(By.ID, "account-status").get_attribute("data-kind") == "ok"
    # the reversal is the newest entry; the original shows as reversed and can no longer be reversed
    rows = driver.find_elements(By.CSS_SELECTOR, "#account-entries tbody tr")
    assert rows[0].find_element(By.CSS_SELECTOR, ".wallet-type").get_attribute("data-type") == "reversal"
    original = driver.find_element(By.CSS_SELECTOR, f'#account-entries tr[data-transfer="{transfer["id"]}"]')
    assert "Reversed" in original.text and not original.find_elements(By.CSS_SELECTOR, 'button[data-action="reverse"]')
    assert not driver.find_elements(By.CSS_SELECTOR, '#account-entries button[data-action="reverse"]')
    status, stored = call(api, "GET", f"/v1/wallet/transfers/{transfer['id']}")
    assert status == 200 and stored["reversedBy"], stored
    status, reversal = call(api, "GET", f"/v1/wallet/transfers/{stored['reversedBy']}")
    assert reversal["type"] == "reversal" and reversal["reverses"] == transfer["id"] and reversal["reason"] == "Wrong vendor"
    assert balances(api, ledger) == {"funding": "-100.00", "buyer": "100.00", "vendor": "0.00"}


@pytest.mark.parametrize("email", STAFF_READERS)
def test_read_only_staff_see_the_wallet_with_no_control_that_writes(browser, base_url, api, ledger, email):
    post(api, "adjustment", ledger["buyer"], ledger["vendor"], "12.00", reason="Seen by staff")
    driver = browser("phone")
    sign_in_as_staff(driver, base_url, api, email, f"#/wallet?ownerId={ledger['owner']}")
    page_ready(driver, "wallet")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#wallet-accounts tbody tr")) == 3)
    assert shown(driver, ledger["vendor"]["id"], "balance") == "12.00"
    assert driver.find_element(By.ID, "wallet-invariant").get_attribute("data-holds") == "true"
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    assert not driver.find_elements(By.ID, "wallet-open") and not driver.find_elements(By.ID, "wallet-adjust")
    menu = driver.find_element(By.ID, "menu-toggle")
    menu.click()
    assert driver.find_element(By.CSS_SELECTOR, '#nav a[data-route="wallet"]').is_displayed()
    menu.click()
    # the account's page: entries and statement, no freeze, close, adjust or reverse
    account_page(driver, ledger["vendor"]["id"])
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#statement-lines tbody tr[data-kind="line"]'))
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    assert not driver.find_elements(By.CSS_SELECTOR, 'button[data-action="reverse"]')
    assert driver.find_element(By.ID, "statement-csv").is_displayed()
    # and the API refuses their writes whatever the page shows
    headers = {"X-Tenant-ID": tenant_of(api), "Idempotency-Key": str(uuid.uuid4())}
    body = {"type": "adjustment", "currency": CURRENCY, "reason": "x",
            "legs": [{"from": ledger["vendor"]["id"], "to": ledger["buyer"]["id"], "amount": "1.00"}]}
    status, answer = api.call("POST", "/v1/wallet/transfers", api.login(email), body=body, headers=headers)
    assert status == 403, answer


def test_the_wallet_fits_a_360_pixel_phone(browser, base_url, api, ledger):
    post(api, "topup", ledger["funding"], ledger["buyer"], "9876543.21")
    post(api, "adjustment", ledger["buyer"], ledger["vendor"], "1234567.89", reason="A long amount, and a long reason, for a narrow screen")
    driver = browser("phone")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    wallet_list(driver, base_url, api, ledger)
    row(driver, ledger["vendor"]["id"])
    wait(driver).until(EC.presence_of_element_located((By.ID, "wallet-invariant")))

    def overflow():
        return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")

    assert driver.execute_script("return document.documentElement.clientWidth") == 360
    assert overflow() <= 0
    click(driver, driver.find_element(By.ID, "wallet-adjust"))
    open_dialog(driver)
    assert overflow() <= 0
    driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]").click()
    no_dialog(driver)
    account_page(driver, ledger["vendor"]["id"])
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#statement-lines tbody tr[data-kind="line"]'))
    assert overflow() <= 0
