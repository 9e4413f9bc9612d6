"""The customer's booking page (Web/booking/, /booking/#<signed token>) on a phone-sized Chromium: an appointment booked
through the API with the customer's phone gets a confirmation in the sandbox outbox whose link opens the page; it shows
the appointment in its own zone, and Confirm, Change the time (a slot picked among the free ones grouped by day; a slot
taken meanwhile offers the next free ones) and Cancel (with a reason) change it in the API and the database, each
audited as the customer's; the .ics downloads; a tampered link and an expired one say why they cannot be used. And the
console's agent form offers agent-core's four booking tools. Each test books in a tenant of its own (calendar_tenant.py),
whose default channel is a sandbox one."""
import datetime
import json
import re
import time
import urllib.request
import uuid
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from calendar_tenant import AGENT_ZONE, UTC, Tenant, instant, unique
from console import OWNER, click, go, open_dialog, page_ready, sign_in, submit_dialog, wait

NAIROBI = ZoneInfo(AGENT_ZONE)
LINK = re.compile(r"(https?://\S+/booking/#\S+)")
BOOKING_TOOLS = {"find_slots": "Calendar: find free slots", "book_appointment": "Calendar: book an appointment",
                 "cancel_appointment": "Calendar: cancel an appointment", "reschedule_appointment": "Calendar: move an appointment"}


@pytest.fixture(scope="module")
def tenant(api):
    return Tenant(api)


def uk_number():
    # no quiet hours for GB in the platform's defaults: the confirmation goes out at any hour of the run
    return "+4477009" + str(uuid.uuid4().int)[-5:]


def nairobi(days, hour, minute=0):
    """A wall-clock time in Nairobi, `days` from today."""
    day = datetime.datetime.now(NAIROBI).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, minute), NAIROBI)


def message_to(tenant, phone, containing, seconds=60):
    """The body of the first sandbox message to `phone` holding `containing` (the reminder sender works every few seconds)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        for entry in tenant.outbox():
            # a notice with the .ics attached carries its text as the document's caption
            text = entry.get("body") or (entry.get("payload") or {}).get("caption") or json.dumps(entry.get("payload"))
            if entry["to"] == phone and containing in text:
                return text
        time.sleep(1)
    raise AssertionError(f"no message to {phone} with {containing!r} in {seconds} s")


def booked_with_link(tenant, agent, start, minutes=60, **extra):
    phone = uk_number()
    appointment = tenant.book(agent, start, minutes, contactPhone=phone, contactName="Wanjiru", **extra)
    body = message_to(tenant, phone, "/booking/#")
    assert body.startswith("Booked: ") and appointment["title"] in body and "Confirm, cancel or change it: " in body, body
    return appointment, LINK.search(body).group(1), phone


def open_link(browser, link):
    driver = browser("phone")
    driver.get(link)
    wait(driver).until(lambda d: d.find_element(By.ID, "main").get_attribute("data-state") in ("ready", "error"))
    return driver


def status_shown(driver, status):
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#appt-status[data-status="{status}"]')))


def result_text(driver):
    return wait(driver).until(lambda d: d.find_element(By.ID, "result").text or None)


def audited(sql, appointment_id):
    return sql(f"SELECT action, actor FROM calendar.audit_log WHERE target_id = '{appointment_id}' AND actor = 'customer:link' ORDER BY created_at")


def test_the_confirmations_link_shows_the_appointment_and_confirms_it(browser, tenant, sql):
    agent = tenant.agent(unique("Amani"))
    start = nairobi(2, 10)
    appointment, link, _ = booked_with_link(tenant, agent, start, 60, location="Plot 7, Kilimani")
    assert f"/booking/#{appointment['id']}." in link
    driver = open_link(browser, link)
    assert driver.find_element(By.ID, "appt-title").text == appointment["title"]
    when = driver.find_element(By.ID, "appt-when")
    assert "10:00–11:00" in when.text and "Africa/Nairobi time" in when.text, when.text
    assert start.strftime("%B") in when.text and str(start.day) in when.text
    assert instant(when.get_attribute("data-start")) == start
    assert driver.find_element(By.ID, "appt-where").text == "Plot 7, Kilimani"
    assert driver.find_element(By.ID, "appt-with").text == agent["name"]
    assert status_shown(driver, "scheduled").text == "Booked"
    # a phone's width: nothing scrolls sideways
    assert driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # the .ics the page links to
    ics = driver.find_element(By.ID, "ics").get_attribute("href")
    with urllib.request.urlopen(ics, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/calendar")
        text = response.read().decode()
    assert "BEGIN:VEVENT" in text and appointment["title"] in text
    # confirmed: said in the live region, the API and the database agree, audited as the customer's
    click(driver, driver.find_element(By.ID, "confirm"))
    assert "confirmed" in result_text(driver)
    status_shown(driver, "confirmed")
    assert driver.find_element(By.ID, "result").get_attribute("aria-live") == "polite"
    assert not driver.find_elements(By.ID, "confirm")
    assert tenant.appointment(appointment["id"])["status"] == "confirmed"
    assert sql(f"SELECT status FROM calendar.appointments WHERE id = '{appointment['id']}'") == [["confirmed"]]
    assert audited(sql, appointment["id"]), "no audit row by customer:link"


def test_change_time_moves_the_appointment_to_the_slot_picked(browser, tenant, sql):
    agent = tenant.agent(unique("Baraka"))
    appointment, link, phone = booked_with_link(tenant, agent, nairobi(2, 9), 30)
    driver = open_link(browser, link)
    click(driver, driver.find_element(By.ID, "change"))
    wait(driver).until(lambda d: d.find_element(By.ID, "slots").get_attribute("data-ready") == "true")
    days = driver.find_elements(By.CSS_SELECTOR, "#slots .slot-day")
    assert len(days) >= 2
    # the page's slots are the API's (the appointment's own time left out of its own way)
    token = link.split("#", 1)[1]
    status, offered = tenant.api.call("GET", f"/v1/calendar/manage/{token}/slots?tz={AGENT_ZONE}")
    assert status == 200 and offered["durationMinutes"] == 30
    shown = [b.get_attribute("data-start") for b in driver.find_elements(By.CSS_SELECTOR, "#slots .slot")]
    assert [instant(s) for s in shown] == [instant(s["startsAt"]) for s in offered["slots"]]
    # a slot on the next day, 14:00 in Nairobi
    target = nairobi(3, 14)
    day = driver.find_element(By.CSS_SELECTOR, f'#slots .slot-day[data-day="{target.date().isoformat()}"]')
    slot = next(b for b in day.find_elements(By.CSS_SELECTOR, ".slot") if instant(b.get_attribute("data-start")) == target)
    assert slot.text == "14:00"
    click(driver, slot)
    assert slot.get_attribute("aria-pressed") == "true"
    assert "14:00" in driver.find_element(By.ID, "slot-chosen").text
    click(driver, driver.find_element(By.ID, "change-submit"))
    assert "moved" in result_text(driver)
    wait(driver).until(lambda d: "14:00–14:30" in d.find_element(By.ID, "appt-when").text)
    moved = tenant.appointment(appointment["id"])
    assert (instant(moved["startsAt"]), instant(moved["endsAt"])) == (target, target + datetime.timedelta(minutes=30))
    assert sql(f"SELECT starts_at = '{target.isoformat()}'::timestamptz FROM calendar.appointments WHERE id = '{appointment['id']}'") == [["t"]]
    assert audited(sql, appointment["id"])
    # and the customer is told the new time
    assert "Moved: " in message_to(tenant, phone, "Moved: ")


def test_a_slot_taken_meanwhile_offers_the_next_free_ones(browser, tenant):
    agent = tenant.agent(unique("Chausiku"))
    appointment, link, _ = booked_with_link(tenant, agent, nairobi(2, 9), 60)
    driver = open_link(browser, link)
    click(driver, driver.find_element(By.ID, "change"))
    wait(driver).until(lambda d: d.find_element(By.ID, "slots").get_attribute("data-ready") == "true")
    target = nairobi(3, 11)
    slot = next(b for b in driver.find_elements(By.CSS_SELECTOR, "#slots .slot") if instant(b.get_attribute("data-start")) == target)
    # someone else books that time while the customer looks
    tenant.book(agent, target, 60)
    click(driver, slot)
    click(driver, driver.find_element(By.ID, "change-submit"))
    # refused (409: taken, or no longer offered since it is taken), said, and the next free times offered instead
    intro = wait(driver).until(EC.visibility_of_element_located((By.ID, "slots-intro")))
    assert "just taken" in intro.text or "not offered any more" in intro.text, intro.text
    assert "These times are free" in intro.text
    offered = [b.get_attribute("data-start") for b in driver.find_elements(By.CSS_SELECTOR, "#slots .slot")]
    assert offered and all(instant(s) != target for s in offered)
    assert tenant.appointment(appointment["id"])["startsAt"] == appointment["startsAt"]
    # one of the times offered instead
    click(driver, driver.find_elements(By.CSS_SELECTOR, "#slots .slot")[0])
    click(driver, driver.find_element(By.ID, "change-submit"))
    assert "moved" in result_text(driver)
    assert instant(tenant.appointment(appointment["id"])["startsAt"]) == instant(offered[0])


def test_cancel_with_a_reason_ends_the_appointment(browser, tenant, sql):
    agent = tenant.agent(unique("Dalila"))
    appointment, link, _ = booked_with_link(tenant, agent, nairobi(3, 15), 45)
    driver = open_link(browser, link)
    click(driver, driver.find_element(By.ID, "cancel"))
    reason = wait(driver).until(EC.visibility_of_element_located((By.ID, "cancel-reason")))
    assert driver.switch_to.active_element.get_attribute("id") == "cancel-title"
    # "keep it" first: nothing changes
    click(driver, driver.find_element(By.ID, "cancel-back"))
    assert not driver.find_elements(By.ID, "cancel-form")
    click(driver, driver.find_element(By.ID, "cancel"))
    reason = wait(driver).until(EC.visibility_of_element_located((By.ID, "cancel-reason")))
    reason.send_keys("I travel that week")
    click(driver, driver.find_element(By.ID, "cancel-submit"))
    assert "cancelled" in result_text(driver)
    status_shown(driver, "cancelled")
    assert driver.find_element(By.ID, "closed").is_displayed()
    assert not driver.find_elements(By.CSS_SELECTOR, "#actions button") and not driver.find_elements(By.ID, "ics")
    cancelled = tenant.appointment(appointment["id"])
    assert (cancelled["status"], cancelled["cancellationReason"]) == ("cancelled", "I travel that week")
    assert sql(f"SELECT status, cancellation_reason FROM calendar.appointments WHERE id = '{appointment['id']}'") == [["cancelled", "I travel that week"]]
    assert audited(sql, appointment["id"])


def test_a_tampered_link_and_an_expired_one_say_why_they_cannot_be_used(browser, tenant):
    agent = tenant.agent(unique("Eshe"), hours=(("00:00", "24:00"),))
    appointment, link, _ = booked_with_link(tenant, agent, nairobi(2, 12), 30)
    prefix, signature = link.rsplit(".", 1)
    tampered = f"{prefix}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    driver = open_link(browser, tampered)
    error = driver.find_element(By.ID, "link-error")
    assert error.get_attribute("data-code") == "invalid_signature"
    assert "not valid" in driver.find_element(By.ID, "error-body").text
    assert not driver.find_elements(By.ID, "appointment")
    status, answer = tenant.api.call("GET", f"/v1/calendar/manage/{tampered.split('#', 1)[1]}")
    assert status == 403 and answer["error"]["code"] == "invalid_signature"
    assert tenant.appointment(appointment["id"])["status"] == "scheduled"
    # an appointment that started two hours ago: its link expired at its start
    past_start = datetime.datetime.now(UTC).replace(second=0, microsecond=0) - datetime.timedelta(hours=2)
    _, expired, _ = booked_with_link(tenant, agent, past_start, 30)
    driver.get(expired)
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#link-error[data-code="link_expired"]'))
    assert "expired" in driver.find_element(By.ID, "error-body").text
    status, answer = tenant.api.call("GET", f"/v1/calendar/manage/{expired.split('#', 1)[1]}")
    assert status == 410 and answer["error"]["code"] == "link_expired"
    # no token at all
    driver.get(expired.split("#", 1)[0] + "#")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#link-error[data-code="no_token"]'))


def test_the_console_agent_form_offers_the_four_booking_tools(browser, base_url, api):
    name = unique("Booker")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/agents", page="agents")
    click(driver, driver.find_element(By.ID, "agent-create"))
    open_dialog(driver)
    for tool, label in BOOKING_TOOLS.items():
        box = driver.find_element(By.ID, f"agent-tool-{tool}")
        assert not box.is_selected()
        assert driver.find_element(By.CSS_SELECTOR, f'label[for="agent-tool-{tool}"]').text == label
    driver.find_element(By.ID, "agent-name").send_keys(name)
    for tool in ("find_slots", "book_appointment", "reschedule_appointment"):
        click(driver, driver.find_element(By.ID, f"agent-tool-{tool}"))
    submit_dialog(driver)
    page_ready(driver, "agents/:id")
    status, page = api.call("GET", "/v1/agents?limit=200", api.login(OWNER))
    assert status == 200
    made = [a for a in page["items"] if a["name"] == name]
    assert len(made) == 1 and {"find_slots", "book_appointment", "reschedule_appointment"} <= set(made[0]["tools"]), made
    assert "cancel_appointment" not in made[0]["tools"]
    go(driver, "#/agents", "agents")
    row = wait(driver).until(lambda d: next((tr for tr in d.find_elements(By.CSS_SELECTOR, "#agents-list tbody tr")
                                             if tr.get_attribute("data-id") == made[0]["id"]), None))
    assert "Calendar: find free slots" in row.text and "Calendar: book an appointment" in row.text
