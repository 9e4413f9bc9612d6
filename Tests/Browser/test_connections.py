"""The console's Connections page (views/connections.js) in a real Chromium, against calendar-booking and the sandbox
Google that ./Deploy/local starts (Deploy/sandbox/google.py): a calendar connects through Google's consent page
(Allow) and shows its account; a refused consent says so and connects nothing; a busy time added in Google is read
by "Sync now", counted, listed by the busy check and kept out of the free slots; access revoked in Google breaks the
connection on the next sync, said at the top of the page with its alert, and Reconnect mends it; Disconnect asks
first and gives Google its token back; the reminder and alert settings are saved (a wrong phone refused); read-only
staff see it all with no control that writes. Each test works in a tenant of its own (calendar_tenant.py).
(A platform without a Google client cannot be tested here: this one has the sandbox's.)"""
import datetime
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from calendar_tenant import UTC, Google, Tenant, connect, instant, sign_in_with, unique
from console import click, open_dialog, page_ready, submit_dialog, wait

READONLY = "readonly@sokoni.local"


@pytest.fixture(scope="module")
def google(demo):
    if not demo.get("sandboxGoogleURL"):
        pytest.skip("the platform runs without the sandbox Google (GOOGLE_CLIENT_ID was set)")
    return Google(demo["sandboxGoogleURL"])


@pytest.fixture(scope="module")
def tenant(api):
    return Tenant(api)


def account_email():
    return f"cal-{uuid.uuid4().hex[:8]}@sandbox.test"


def card(driver, agent):
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'.conn-card[data-agent="{agent["id"]}"]')))


def card_status(driver, agent, status):
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'.conn-card[data-agent="{agent["id"]}"][data-status="{status}"]')))


def card_line(driver, agent):
    return wait(driver).until(lambda d: card(d, agent).find_element(By.CSS_SELECTOR, ".conn-line").text or None)


def connections_page(driver, base_url, tenant):
    sign_in_with(driver, base_url, tenant.email, tenant.password, "#/connections", "connections")


def consent_in_browser(driver, google, email, decision="allow"):
    """On the sandbox Google's consent page: the account typed, then Allow or Deny."""
    wait(driver).until(lambda d: d.current_url.startswith(google.url + "/o/oauth2/v2/auth"))
    title = wait(driver).until(EC.visibility_of_element_located((By.ID, "consent-title"))).text
    assert "allow sandbox-client to manage your calendar" in title, title
    field = driver.find_element(By.ID, "email")
    assert field.get_attribute("value") == "demo@sandbox.test"
    field.clear()
    field.send_keys(email)
    driver.find_element(By.ID, decision).click()


def test_a_calendar_connects_through_googles_consent_and_shows_the_account(browser, base_url, api, sql, google, tenant):
    agent = tenant.agent(unique("Amina"))
    email = account_email()
    driver = browser("desktop")
    connections_page(driver, base_url, tenant)
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert links[links.index("bookings") + 1] == "connections", links
    assert not driver.find_elements(By.ID, "conn-not-configured")
    box = card_status(driver, agent, "none")
    assert "Not connected" in box.find_element(By.CSS_SELECTOR, ".conn-status").text
    # Meet links asked for, then Google's consent page
    click(driver, box.find_element(By.CSS_SELECTOR, "input.conn-meet"))
    connect = box.find_element(By.CSS_SELECTOR, "button.conn-connect")
    assert connect.text == "Connect Google Calendar"
    click(driver, connect)
    consent_in_browser(driver, google, email, "allow")
    # back in the console: the outcome said once, the calendar connected with its account
    page_ready(driver, "connections")
    notice = wait(driver).until(EC.visibility_of_element_located((By.ID, "conn-outcome-text")))
    assert notice.get_attribute("data-outcome") == "connected" and f"{agent['name']} is connected to Google Calendar" in notice.text
    assert driver.execute_script("return location.hash") == "#/connections"
    box = card_status(driver, agent, "active")
    assert box.find_element(By.CSS_SELECTOR, ".conn-account").text == email
    assert "Connected" in box.find_element(By.CSS_SELECTOR, ".conn-status").text
    assert box.find_elements(By.CSS_SELECTOR, "button.conn-sync") and box.find_elements(By.CSS_SELECTOR, "button.conn-disconnect")
    assert not box.find_elements(By.CSS_SELECTOR, "button.conn-connect")
    # the API and the database agree; Google holds one live refresh token for the account
    connection = tenant.connection_of(agent)
    assert (connection["status"], connection["account"], connection["createMeetLinks"], connection["calendarId"]) == ("active", email, True, "primary")
    assert notice.get_attribute("data-connection") == connection["id"].lower()
    rows = sql(f"SELECT status, account, create_meet_links, refresh_token IS NOT NULL FROM calendar.connections WHERE agent_id = '{agent['id']}'")
    assert rows == [["active", email, "t", "t"]], rows
    assert google.account(email)["refreshTokens"] == {"active": 1, "revoked": 0}


def test_a_refused_consent_says_so_and_connects_nothing(browser, base_url, sql, google, tenant):
    agent = tenant.agent(unique("Baraka"))
    driver = browser("phone")
    connections_page(driver, base_url, tenant)
    click(driver, card_status(driver, agent, "none").find_element(By.CSS_SELECTOR, "button.conn-connect"))
    consent_in_browser(driver, google, account_email(), "deny")
    page_ready(driver, "connections")
    notice = wait(driver).until(EC.visibility_of_element_located((By.ID, "conn-outcome-text")))
    assert notice.get_attribute("data-outcome") == "refused" and "access was refused" in notice.text
    box = card(driver, agent)
    assert box.get_attribute("data-status") != "active"
    assert box.find_element(By.CSS_SELECTOR, "button.conn-connect").is_displayed()
    # nothing live in the API or the database
    assert tenant.connection_of(agent, all_of_them=False) is None or tenant.connection_of(agent, all_of_them=False)["status"] != "active"
    assert sql(f"SELECT count(*) FROM calendar.connections WHERE agent_id = '{agent['id']}' AND status IN ('active', 'broken')") == [["0"]]


def test_a_busy_time_in_google_is_synced_listed_and_kept_out_of_the_free_slots(browser, base_url, sql, google, tenant):
    agent = tenant.agent(unique("Chege"), hours=(("00:00", "24:00"),))
    email = account_email()
    connection = connect(tenant, google, agent, email)
    # synced once now (an empty calendar): the background syncer then leaves it alone for minutes
    status, first = tenant.call("POST", f"/v1/calendar/connections/{connection['id']}/sync")
    assert status == 200 and first["result"]["busy"] == 0, first
    driver = browser("desktop")
    connections_page(driver, base_url, tenant)
    box = card_status(driver, agent, "active")
    assert box.find_element(By.CSS_SELECTOR, ".conn-busy-count").get_attribute("data-count") == "0"
    # the dentist, tomorrow 10:00–11:00 UTC, in the account's Google Calendar
    start = (datetime.datetime.now(UTC) + datetime.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    end = start + datetime.timedelta(hours=1)
    google.add_busy(email, start, end)
    click(driver, box.find_element(By.CSS_SELECTOR, "button.conn-sync"))
    line = card_line(driver, agent)
    wait(driver).until(lambda d: "Synced" in card(d, agent).find_element(By.CSS_SELECTOR, ".conn-line").text)
    box = card(driver, agent)
    assert box.find_element(By.CSS_SELECTOR, ".conn-busy-count").get_attribute("data-count") == "1", line
    assert box.find_element(By.CSS_SELECTOR, ".conn-synced").get_attribute("data-at")
    # the busy check asks Google's free/busy live
    click(driver, box.find_element(By.CSS_SELECTOR, "button.conn-check-busy"))
    item = wait(driver).until(lambda d: card(d, agent).find_elements(By.CSS_SELECTOR, ".conn-busy-item"))[0]
    assert (instant(item.get_attribute("data-start")), instant(item.get_attribute("data-end"))) == (start, end)
    # the API: counted, and no free slot overlaps it; the database holds the busy time
    synced = tenant.connection_of(agent)
    assert synced["id"] == connection["id"] and synced["busyEvents"] == 1 and synced["syncedAt"]
    status, busy = tenant.call("GET", f"/v1/calendar/connections/{connection['id']}/busy?from={start.isoformat().replace('+00:00', 'Z')}"
                                      f"&to={(end + datetime.timedelta(hours=1)).isoformat().replace('+00:00', 'Z')}")
    assert status == 200 and [(instant(b["startsAt"]), instant(b["endsAt"])) for b in busy["busy"]] == [(start, end)], busy
    day = start - datetime.timedelta(hours=3)
    status, free = tenant.call("GET", f"/v1/availability?agentId={agent['id']}&duration=30&tz=Etc/UTC"
                                      f"&from={day.isoformat().replace('+00:00', 'Z')}&to={(day + datetime.timedelta(hours=8)).isoformat().replace('+00:00', 'Z')}")
    assert status == 200, free
    slots = [(instant(s["startsAt"]), instant(s["endsAt"])) for s in free["slots"]]
    assert slots and not [s for s in slots if s[0] < end and s[1] > start], slots
    assert sql(f"SELECT count(*) FROM calendar.external_busy WHERE connection_id = '{connection['id']}'") == [["1"]]


def test_access_revoked_in_google_breaks_the_connection_with_an_alert_and_reconnect_mends_it(browser, base_url, sql, google, tenant):
    agent = tenant.agent(unique("Dalia"))
    email = account_email()
    connection = connect(tenant, google, agent, email)
    driver = browser("desktop")
    connections_page(driver, base_url, tenant)
    card_status(driver, agent, "active")
    assert not driver.find_elements(By.ID, "conn-alerts")
    # the account's owner revokes Sokoni's access in Google: the next sync's refresh is refused
    google.revoke(email)
    click(driver, card(driver, agent).find_element(By.CSS_SELECTOR, "button.conn-sync"))
    box = card_status(driver, agent, "broken")
    assert "Broken" in box.find_element(By.CSS_SELECTOR, ".conn-status").text
    assert "no longer accepts" in box.find_element(By.CSS_SELECTOR, ".conn-broken-note").text
    alerts = wait(driver).until(EC.visibility_of_element_located((By.ID, "conn-alerts")))
    assert alerts.get_attribute("role") == "alert" and agent["name"] in alerts.text and "expired or revoked" in alerts.text, alerts.text
    assert "not active" in card(driver, agent).find_element(By.CSS_SELECTOR, ".conn-line").text
    reconnect = box.find_element(By.CSS_SELECTOR, "button.conn-connect")
    assert reconnect.text == "Reconnect Google Calendar"
    # the API and the database: broken, with an open refresh_failed alert
    broken = tenant.connection_of(agent)
    assert broken["id"] == connection["id"] and broken["status"] == "broken" and broken["brokenAt"]
    assert [a["kind"] for a in broken["alerts"]] == ["refresh_failed"] and "revoked" in broken["alerts"][0]["message"]
    assert sql(f"SELECT kind FROM calendar.connection_alerts WHERE connection_id = '{connection['id']}' AND resolved_at IS NULL") == [["refresh_failed"]]
    # reconnected through Google's consent again: active, the alert closed
    click(driver, reconnect)
    consent_in_browser(driver, google, email, "allow")
    page_ready(driver, "connections")
    wait(driver).until(lambda d: d.find_element(By.ID, "conn-outcome-text").get_attribute("data-outcome") == "connected")
    card_status(driver, agent, "active")
    assert not driver.find_elements(By.ID, "conn-alerts")
    mended = tenant.connection_of(agent)
    assert mended["status"] == "active" and mended["alerts"] == [] and mended["account"] == email
    assert sql(f"SELECT count(*) FROM calendar.connection_alerts ca JOIN calendar.connections c ON c.id = ca.connection_id "
               f"WHERE c.agent_id = '{agent['id']}' AND ca.resolved_at IS NULL") == [["0"]]


def test_disconnect_asks_first_and_gives_google_its_token_back(browser, base_url, sql, google, tenant):
    agent = tenant.agent(unique("Eshe"))
    email = account_email()
    connection = connect(tenant, google, agent, email)
    driver = browser("desktop")
    connections_page(driver, base_url, tenant)
    # asked first: cancelled, nothing changes
    click(driver, card_status(driver, agent, "active").find_element(By.CSS_SELECTOR, "button.conn-disconnect"))
    dialog = open_dialog(driver)
    assert agent["name"] in dialog.text and email in dialog.text
    click(driver, dialog.find_element(By.CSS_SELECTOR, "button[value=cancel]"))
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))
    assert tenant.connection_of(agent)["status"] == "active"
    # confirmed: disconnected, Connect offered again
    click(driver, card(driver, agent).find_element(By.CSS_SELECTOR, "button.conn-disconnect"))
    open_dialog(driver)
    submit_dialog(driver)
    box = card_status(driver, agent, "disconnected")
    assert "is disconnected from Google Calendar" in card_line(driver, agent)
    assert box.find_element(By.CSS_SELECTOR, "button.conn-connect").text == "Connect Google Calendar"
    assert not box.find_elements(By.CSS_SELECTOR, "button.conn-sync")
    # the API lists it only with all=true; its tokens are gone here and revoked at Google
    assert tenant.connection_of(agent, all_of_them=False) is None
    assert tenant.connection_of(agent)["status"] == "disconnected"
    assert sql(f"SELECT status, refresh_token IS NULL FROM calendar.connections WHERE id = '{connection['id']}'") == [["disconnected", "t"]]
    assert google.account(email)["refreshTokens"] == {"active": 0, "revoked": 1}


def test_reminder_and_alert_settings_are_saved_and_a_wrong_phone_is_refused(browser, base_url, tenant):
    driver = browser("desktop")
    connections_page(driver, base_url, tenant)
    form = wait(driver).until(EC.presence_of_element_located((By.ID, "settings-form")))
    status, before = tenant.call("GET", "/v1/calendar/settings")
    assert status == 200
    rows = form.find_elements(By.CSS_SELECTOR, ".reminder-row")
    assert len(rows) == len(before["reminderOffsets"])
    # reminders a day and two hours before; no confirmation; a wrong phone first
    for row in rows:
        click(driver, row.find_element(By.CSS_SELECTOR, ".reminder-remove"))
    for amount, unit in (("1", "days"), ("2", "hours")):
        click(driver, driver.find_element(By.ID, "settings-add"))
        row = driver.find_elements(By.CSS_SELECTOR, "#settings-reminders .reminder-row")[-1]
        field = row.find_element(By.CSS_SELECTOR, ".reminder-amount")
        field.clear()
        field.send_keys(amount)
        Select(row.find_element(By.CSS_SELECTOR, ".reminder-unit")).select_by_value(unit)
    if driver.find_element(By.ID, "settings-confirmation").is_selected():
        click(driver, driver.find_element(By.ID, "settings-confirmation"))
    phone = driver.find_element(By.ID, "settings-alert-phone")
    phone.clear()
    phone.send_keys("0712 345")
    click(driver, driver.find_element(By.ID, "settings-save"))
    error = wait(driver).until(lambda d: d.find_element(By.ID, "settings-error").text or None)
    assert "international format" in error
    assert tenant.call("GET", "/v1/calendar/settings")[1] == before
    phone = driver.find_element(By.ID, "settings-alert-phone")
    phone.clear()
    phone.send_keys("+254 712 345 678")
    click(driver, driver.find_element(By.ID, "settings-save"))
    wait(driver).until(lambda d: "saved" in d.find_element(By.ID, "settings-status").text)
    status, after = tenant.call("GET", "/v1/calendar/settings")
    assert after == {"reminderOffsets": [1440, 120], "sendConfirmation": False, "alertPhone": "+254712345678"}, after
    # drawn again from what was saved: a day and two hours
    shown = [(r.find_element(By.CSS_SELECTOR, ".reminder-amount").get_attribute("value"),
              Select(r.find_element(By.CSS_SELECTOR, ".reminder-unit")).first_selected_option.get_attribute("value"))
             for r in driver.find_elements(By.CSS_SELECTOR, "#settings-reminders .reminder-row")]
    assert shown == [("1", "days"), ("2", "hours")]
    # back as it was (the booking tests of this tenant want their confirmation)
    status, _ = tenant.call("PUT", "/v1/calendar/settings", {**before, "alertPhone": before.get("alertPhone") or ""})
    assert status == 200


def test_read_only_staff_see_the_connections_with_no_control_that_writes(browser, base_url, api, google, tenant):
    agent = tenant.agent(unique("Fumo"))
    email = account_email()
    connection = connect(tenant, google, agent, email)
    google.add_busy(email, datetime.datetime.now(UTC) + datetime.timedelta(days=2), datetime.datetime.now(UTC) + datetime.timedelta(days=2, hours=1))
    driver = browser("desktop")
    driver.get(f"{base_url}/admin/#/connections")
    field = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#signin-form input[name=email]")))
    field.send_keys(READONLY)
    driver.find_element(By.CSS_SELECTOR, "#signin-form input[name=password]").send_keys(api.user(READONLY)["password"])
    driver.find_element(By.ID, "signin-submit").click()
    page_ready(driver, "tenant")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "tenant-id"))).send_keys(tenant.id)
    driver.find_element(By.ID, "tenant-use").click()
    page_ready(driver, "connections")
    box = card_status(driver, agent, "active")
    assert box.find_element(By.CSS_SELECTOR, ".conn-account").text == email
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    for control in ("button.conn-connect", "button.conn-sync", "button.conn-disconnect", "#settings-form"):
        assert not driver.find_elements(By.CSS_SELECTOR, control), control
    assert "day(s) before" in wait(driver).until(EC.presence_of_element_located((By.ID, "settings-text"))).text
    # reading Google's busy times is theirs too
    click(driver, box.find_element(By.CSS_SELECTOR, "button.conn-check-busy"))
    wait(driver).until(lambda d: card(d, agent).find_elements(By.CSS_SELECTOR, ".conn-busy-item"))
    # and the API refuses their writes whatever the page shows
    token = api.login(READONLY)
    headers = {"X-Tenant-ID": tenant.id}
    for method, path, body in (("POST", "/v1/calendar/connections", {"agentId": agent["id"]}),
                               ("POST", f"/v1/calendar/connections/{connection['id']}/sync", None),
                               ("DELETE", f"/v1/calendar/connections/{connection['id']}", None),
                               ("PUT", "/v1/calendar/settings", {"sendConfirmation": False})):
        status, answer = api.call(method, path, token, body=body, headers=headers)
        assert status == 403, f"{method} {path}: {status} {answer}"
    assert tenant.connection_of(agent)["status"] == "active"
