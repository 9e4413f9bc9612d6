"""The Station app (/station/) in a real Chromium: a station operator signs in, redeems a voucher by its typed code
and sees the green confirmation; the same code again is refused as already used, with the time; a code typed while
offline is queued with its Idempotency-Key, shown as pending, and redeemed exactly once when the connection returns
(database checked); a station operator gets nothing from the admin console or the admin API. Each test issues its
own voucher through the API (as the demo tenant's owner), so the tests are independent of each other and of order."""
import json
import random
import re
import time
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT

OPERATOR = "station@demo.sokoni.local"
OWNER = "owner@demo.sokoni.local"


# ---------- helpers ----------

def unique_amount():
    """A different amount per test (whole RWF, RWF has no decimals), so the screen shows this test's voucher."""
    return str(random.randrange(11, 990) * 100)


def unique_msisdn():
    return "+25078" + "".join(random.choice("0123456789") for _ in range(7))


def rwf(amount):
    """How the app writes an RWF amount in English (Intl: code, thousands with commas, no decimals)."""
    return f"RWF {int(amount):,}"


def text(driver, element_id):
    """An element's visible text with any kind of space (Intl uses no-break spaces) as a plain space."""
    return re.sub(r"\s+", " ", driver.find_element(By.ID, element_id).text).strip()


def wait(driver, seconds=15):
    return WebDriverWait(driver, seconds, poll_frequency=0.1)


def result_state(driver, state, seconds=15):
    """Waits until #result shows the given state (ok, refused, pending) and answers the result element."""
    locator = (By.CSS_SELECTOR, f'#result[data-state="{state}"]')
    return wait(driver, seconds).until(EC.visibility_of_element_located(locator))


def operator_station(api):
    token = api.login(OPERATOR)
    status, me = api.call("GET", "/v1/auth/me", token)
    assert status == 200 and me["stationId"], me
    status, station = api.call("GET", f"/v1/stations/{me['stationId']}", token)
    assert status == 200, station
    return station


def sign_in(driver, base_url, api, email=OPERATOR):
    driver.get(f"{base_url}/station/")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "email"))).send_keys(email)
    driver.find_element(By.ID, "password").send_keys(api.user(email)["password"])
    driver.find_element(By.ID, "login-submit").click()


def sign_in_operator(driver, base_url, api):
    sign_in(driver, base_url, api)
    wait(driver).until(EC.visibility_of_element_located((By.ID, "code")))
    station = operator_station(api)
    wait(driver).until(lambda d: text(d, "station-name") == station["name"])
    return station


def type_code(driver, typed):
    field = driver.find_element(By.ID, "code")
    field.clear()
    field.send_keys(typed)
    driver.find_element(By.ID, "redeem-submit").click()


def next_voucher(driver):
    driver.find_element(By.ID, "next").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "code")))


def redeemed_events(sql, voucher_id):
    rows = sql(f"SELECT count(*) FROM vouchers.voucher_events WHERE voucher_id = '{voucher_id}' AND event_type = 'redeemed'")
    return int(rows[0][0])


def set_offline(driver, offline):
    """DevTools network emulation: offline also makes navigator.onLine false and fires the offline/online events."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": offline, "latency": 0,
        "downloadThroughput": 0 if offline else -1, "uploadThroughput": 0 if offline else -1})


def queued_attempts(driver):
    """What the app keeps in IndexedDB for attempts waiting to be sent."""
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const request = indexedDB.open('sokoni-station');
        request.onsuccess = () => {
          const db = request.result;
          if (!db.objectStoreNames.contains('attempts')) return done([]);
          const all = db.transaction('attempts').objectStore('attempts').getAll();
          all.onsuccess = () => done(all.result);
          all.onerror = () => done({ error: String(all.error) });
        };
        request.onerror = () => done({ error: String(request.error) });
    """)


def raw_redeem(base_url, token, raw_body, key):
    """POST /v1/redemptions with exactly these body bytes (the idempotency fingerprint covers the bytes)."""
    request = urllib.request.Request(f"{base_url}/v1/redemptions", data=raw_body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


# ---------- tests ----------

def test_operator_redeems_a_typed_code_and_sees_the_green_confirmation(browser, base_url, api):
    amount = unique_amount()
    voucher = api.issue_voucher(amount=amount, msisdn=unique_msisdn())
    driver = browser("phone")
    sign_in_operator(driver, base_url, api)
    # typed the way a cashier might: lower case, with a dash and a space; the app normalises like the API
    code = voucher["code"]
    type_code(driver, f"{code[:2].lower()}-{code[2:4].lower()} {code[4].lower()}")
    result_state(driver, "ok")
    assert text(driver, "result-amount") == rwf(amount)
    assert text(driver, "result-code") == code
    assert re.fullmatch(r"\d\d:\d\d", text(driver, "result-time")), text(driver, "result-time")
    phone = text(driver, "result-phone")
    assert "*" in phone and phone.endswith(voucher["msisdn"][-2:]) and voucher["msisdn"] not in phone
    # the API agrees: redeemed, at the operator's station
    status, stored = api.call("GET", f"/v1/vouchers/{voucher['id']}", api.login(OWNER))
    assert status == 200 and stored["status"] == "redeemed", stored
    assert stored["redeemedStationId"] == operator_station(api)["id"]
    # and today's list shows it, with a total
    driver.find_element(By.ID, "tab-history").click()
    wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'#history-list li[data-code="{code}"]')))
    row = re.sub(r"\s+", " ", driver.find_element(By.CSS_SELECTOR, f'#history-list li[data-code="{code}"]').text)
    assert rwf(amount) in row
    assert "total" in text(driver, "history-summary")


def test_the_same_code_again_is_refused_as_already_used_with_the_time(browser, base_url, api):
    voucher = api.issue_voucher(amount=unique_amount(), msisdn=unique_msisdn())
    driver = browser("phone")
    station = sign_in_operator(driver, base_url, api)
    type_code(driver, voucher["code"])
    result_state(driver, "ok")
    redeemed_at = text(driver, "result-time")
    next_voucher(driver)
    type_code(driver, voucher["code"])
    result = result_state(driver, "refused")
    assert result.get_attribute("data-code") == "already_redeemed"
    assert text(driver, "result-title") == "Already used"
    assert "Do not give fuel" in text(driver, "result-detail")
    # when (and where) it was used: the time of the first redemption, at this station
    assert text(driver, "result-time") == redeemed_at
    extra = text(driver, "result-extra")
    assert redeemed_at in extra and station["name"] in extra, extra
    # no amount is shown on a refusal, so nobody reads it as a go-ahead
    assert not driver.find_element(By.ID, "result-amount").is_displayed()


def test_offline_code_is_queued_then_redeemed_exactly_once_when_back_online(browser, base_url, api, sql):
    amount = unique_amount()
    voucher = api.issue_voucher(amount=amount, msisdn=unique_msisdn())
    driver = browser("phone")
    sign_in_operator(driver, base_url, api)
    set_offline(driver, True)
    try:
        wait(driver).until(lambda d: d.execute_script("return navigator.onLine") is False)
        type_code(driver, voucher["code"])
        result_state(driver, "pending")
        assert text(driver, "result-title") == "Pending — will be sent when online"
        assert "Do not give fuel" in text(driver, "result-detail")
        assert not driver.find_element(By.ID, "result-amount").is_displayed(), "no amount before the server said yes"
        banner = driver.find_element(By.ID, "banner")
        wait(driver).until(lambda d: banner.is_displayed() and banner.get_attribute("data-count") == "1")
        assert banner.get_attribute("role") == "status" and banner.get_attribute("data-state") == "offline"
        assert "Waiting to send: 1" in text(driver, "banner")
        # the attempt waits in IndexedDB with its key, and without any token
        [queued] = queued_attempts(driver)
        assert queued["body"] == {"code": voucher["code"]}
        assert re.fullmatch(r"[0-9a-f-]{36}", queued["key"]), queued
        assert "eyJ" not in json.dumps(queued) and "Bearer" not in json.dumps(queued), "no token in IndexedDB"
        # nothing reached the server yet
        assert redeemed_events(sql, voucher["id"]) == 0
        time.sleep(1)
        assert driver.find_element(By.ID, "result").get_attribute("data-state") == "pending"
    finally:
        set_offline(driver, False)
    # the connection returns: the queued attempt is sent with its key and its real answer replaces "pending"
    result_state(driver, "ok", seconds=30)
    assert text(driver, "result-amount") == rwf(amount)
    assert text(driver, "result-code") == voucher["code"]
    assert "sent after the connection returned" in text(driver, "result-extra")
    wait(driver).until(lambda d: not d.find_element(By.ID, "banner").is_displayed())
    assert queued_attempts(driver) == []
    assert redeemed_events(sql, voucher["id"]) == 1
    # the server saw the app's own key, and stored its one answer under it
    assert sql(f"SELECT status_code FROM vouchers.idempotency_keys WHERE key = '{queued['key']}'") == [["200"]]
    # a retry with the same key (say the answer had been lost on the way) gets the first answer back, and
    # still redeems nothing more: the key, not luck, guarantees "exactly once"
    status, headers, replay = raw_redeem(base_url, api.login(OPERATOR), json.dumps(
        queued["body"], separators=(",", ":")).encode(), queued["key"])
    assert status == 200 and headers.get("Idempotent-Replayed") == "true", (status, headers, replay)
    assert replay["voucherId"] == voucher["id"]
    assert redeemed_events(sql, voucher["id"]) == 1
    status, stored = api.call("GET", f"/v1/vouchers/{voucher['id']}", api.login(OWNER))
    assert status == 200 and stored["status"] == "redeemed"


def test_a_lost_connection_the_browser_does_not_notice_is_retried_with_the_same_key(browser, base_url, api, sql):
    """navigator.onLine stays true while requests fail (a dead mobile link): the fetch fails, the attempt is queued,
    and the periodic retry sends it with its key once requests go through again."""
    amount = unique_amount()
    voucher = api.issue_voucher(amount=amount, msisdn=unique_msisdn())
    driver = browser("phone")
    sign_in_operator(driver, base_url, api)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/v1/redemptions*"]})
    try:
        type_code(driver, voucher["code"])
        result_state(driver, "pending")
        assert driver.execute_script("return navigator.onLine") is True
        wait(driver).until(lambda d: d.find_element(By.ID, "banner").get_attribute("data-count") == "1")
        assert "No connection" in text(driver, "banner")
        [queued] = queued_attempts(driver)
        assert redeemed_events(sql, voucher["id"]) == 0
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    result_state(driver, "ok", seconds=40)  # no online event here: the periodic retry (every 15 s) sends it
    assert text(driver, "result-amount") == rwf(amount)
    assert queued_attempts(driver) == []
    assert redeemed_events(sql, voucher["id"]) == 1
    assert sql(f"SELECT status_code FROM vouchers.idempotency_keys WHERE key = '{queued['key']}'") == [["200"]]


def test_a_station_operator_cannot_open_admin_pages(browser, base_url, api):
    driver = browser("desktop")
    sign_in_operator(driver, base_url, api)
    # the same browser, so the admin console restores the operator's session from the refresh cookie
    for page in ("/admin/", "/admin/#/users", "/admin/#/vouchers"):
        driver.get(f"{base_url}{page}")
        wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '[data-screen="operator"]')))
        assert driver.find_elements(By.CSS_SELECTOR, "nav#nav, a[data-route]") == [], f"{page} shows an admin menu"
        assert driver.find_element(By.ID, "station-link").get_attribute("href").endswith("/station/")
    # and the API refuses the admin calls whatever the page shows
    token = api.login(OPERATOR)
    for path in ("/v1/users", "/v1/api-keys", "/v1/tenants"):
        status, body = api.call("GET", path, token)
        assert status == 403, f"GET {path} as a station operator: {status} {body}"
        assert body["error"]["code"] == "forbidden", body
    # a station operator may not issue vouchers either
    status, body = api.call("POST", "/v1/vouchers", token, body={"amount": "1000", "msisdn": unique_msisdn()})
    assert status == 403, body


def test_non_operator_is_told_this_app_is_for_station_staff(browser, base_url, api):
    driver = browser("phone")
    sign_in(driver, base_url, api, OWNER)
    note = wait(driver).until(EC.visibility_of_element_located((By.ID, "login-note")))
    assert "for station staff" in note.text and OWNER in note.text
    assert driver.find_element(By.CSS_SELECTOR, "#admin-link a").get_attribute("href").endswith("/admin/")
    assert not driver.find_element(By.ID, "nav").is_displayed()
    assert not driver.find_element(By.ID, "code").is_displayed()


def test_reload_keeps_the_session_and_a_mistyped_code_is_explained_on_the_spot(browser, base_url, api):
    driver = browser("phone")
    station = sign_in_operator(driver, base_url, api)
    driver.refresh()  # the HttpOnly refresh cookie restores the session
    wait(driver).until(EC.visibility_of_element_located((By.ID, "code")))
    wait(driver).until(lambda d: text(d, "station-name") == station["name"])
    type_code(driver, "O1IL5")  # look-alikes the alphabet never uses: not a code at all
    error = wait(driver).until(EC.visibility_of_element_located((By.ID, "code-error")))
    assert "Not in voucher codes" in error.text and "“O”" in error.text
    assert driver.find_element(By.ID, "code").get_attribute("aria-invalid") == "true"
    type_code(driver, "ABC")
    wait(driver).until(lambda d: "You typed 3" in d.find_element(By.ID, "code-error").text)
    # nothing was sent: a typed non-code never costs one of the operator's failed attempts
    assert driver.find_element(By.ID, "screen-redeem").is_displayed()


def test_phone_screenshot_of_the_green_confirmation(browser, base_url, api, artifacts, update_screenshots):
    voucher = api.issue_voucher(amount="5000", msisdn=unique_msisdn())
    driver = browser("phone")
    # exactly 390×844 CSS pixels, as on a phone (a headless window keeps some of its height for itself)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    sign_in_operator(driver, base_url, api)
    type_code(driver, voucher["code"])
    result_state(driver, "ok")
    assert text(driver, "result-amount") == rwf("5000")
    driver.execute_script("document.activeElement.blur()")  # no focus ring in the picture
    time.sleep(0.3)  # the arrival animation is 0.18 s
    if update_screenshots:
        target = ROOT / "docs" / "screenshots" / "station.png"
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        target = artifacts / "station.png"
    driver.save_screenshot(str(target))
    assert target.stat().st_size > 10_000
    with open(target, "rb") as png:
        header = png.read(24)
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert (width, height) == (390, 844), (width, height)
