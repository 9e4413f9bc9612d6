"""The calendar pages of the admin console (Calendar, an appointment's page, Availability, Bookings) in a real Chromium,
against calendar-booking. The browser runs in Europe/Malta (CDP's time zone override) while the calendars work in
Africa/Nairobi, so every time the pages show is checked in the viewer's zone, not the agent's. Each test makes its own
calendars (agents) through the API with unique names, so what it reads is its own in the shared demo database.

A calendar made in the Availability page gets its weekly hours (a wrong interval refused with the field marked, then
fixed), date overrides, buffer and step, and its preview shows the API's free slots; time off is added and deleted.
An appointment booked in the Calendar page (double-clicked: one row) lands in the week view at its local time, in its
status colour; a second booking of a taken time shows why and the next free slots, one of which books it;
rescheduling (into a taken time first), confirming and cancelling through the appointment's page change the rows in
PostgreSQL and leave their audit rows; a past appointment is marked a no-show. The Bookings page filters, pages and
exports the filtered list as CSV built in the browser. Read-only staff see all of it with no control that writes; a
second tenant's admin sees none of the first tenant's calendars or appointments. A 360-pixel phone scrolls nothing
sideways."""
import csv
import datetime
import io
import pathlib
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from console import OWNER, click, form_in, go, open_dialog, page_ready, sign_in, submit_dialog, tenant_of, wait

VIEWER_ZONE = "Europe/Malta"
AGENT_ZONE = "Africa/Nairobi"
SUPER = "admin@sokoni.local"
AGENT_USER = "agent@demo.sokoni.local"
STAFF_READERS = ["readonly@sokoni.local", "dataops@sokoni.local"]
STATUSES = ["pending", "scheduled", "confirmed", "cancelled", "completed", "no_show", "expired"]
CSV_HEADER = ["id", "starts_at", "ends_at", "local_start", "local_end", "time_zone", "agent_id", "agent", "title", "status", "type",
              "service_type", "source", "contact_name", "contact_phone", "contact_email", "payment_amount", "payment_currency",
              "payment_status", "cancellation_reason", "created_at"]
MALTA = ZoneInfo(VIEWER_ZONE)
UTC = datetime.timezone.utc


# ---------- the API ----------

def call(api, method, path, body=None, key=None, as_user=OWNER, tenant=None, token=None):
    headers = {}
    if key:
        headers["Idempotency-Key"] = key
    if tenant:
        headers["X-Tenant-ID"] = tenant
    return api.call(method, path, token or api.login(as_user), body=body, headers=headers)


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def make_agent(api, name=None, hours=(("08:00", "18:00"),), durations=None, token=None, **settings):
    """A calendar in Africa/Nairobi open every day for `hours` (agent-local), with its service durations."""
    status, agent = call(api, "POST", "/v1/calendar/agents", {
        "name": name or unique("Cal"), "kind": "person", "timeZone": AGENT_ZONE, "serviceDurations": durations or {}},
        key=str(uuid.uuid4()), token=token)
    assert status == 201, agent
    weekly = [{"weekday": d, "start": start, "end": end} for d in range(1, 8) for start, end in hours]
    status, rules = call(api, "PUT", "/v1/availability/rules", {"agentId": agent["id"], "schedule": {
        "timeZone": AGENT_ZONE, "weekly": weekly, **settings}}, token=token)
    assert status == 200, rules
    return agent


def book(api, agent, start, minutes=60, token=None, **extra):
    body = {"agentId": agent["id"], "startsAt": iso(start), "durationMinutes": minutes, "title": extra.pop("title", unique("Visit")), **extra}
    status, appointment = call(api, "POST", "/v1/appointments", body, key=str(uuid.uuid4()), token=token)
    assert status == 201, appointment
    return appointment


def appointment(api, appointment_id):
    status, found = call(api, "GET", f"/v1/appointments/{appointment_id}")
    assert status == 200, found
    return found


def listed(api, **query):
    items, cursor = [], None
    while True:
        params = "&".join(f"{k}={v}" for k, v in {**query, "limit": 200, **({"cursor": cursor} if cursor else {})}.items())
        status, page = call(api, "GET", f"/v1/appointments?{params}")
        assert status == 200, page
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


def iso(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def at(day, hour, minute=0):
    """A wall-clock time of the viewer (Malta) as an aware datetime."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), MALTA)


def next_week(weekday):
    """A day of next week in Malta (0 = Monday)."""
    today = datetime.datetime.now(MALTA).date()
    return today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(days=7 + weekday)


def midnight(day):
    return iso(datetime.datetime.combine(day, datetime.time(0, 0), MALTA))


# ---------- the page ----------

def viewer(browser, size="desktop"):
    """A Chromium whose time zone is Malta's: every time on the calendar pages is shown in it."""
    driver = browser(size)
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": VIEWER_ZONE})
    return driver


def set_value(driver, element, value):
    """Fills a date, time or number input as a person's typing would (input and change events)."""
    driver.execute_script("""
        const [el, value] = arguments;
        el.value = value;
        el.dispatchEvent(new Event('input', {bubbles: true}));
        el.dispatchEvent(new Event('change', {bubbles: true}));""", element, value)


def fill(driver, element_id, text):
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)
    return element


def no_dialog(driver):
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))


def dialog_error(driver):
    return wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .form-error").text or None)


def grid_ready(driver):
    wait(driver).until(lambda d: d.find_element(By.ID, "cal-grid-box").get_attribute("data-ready") == "true")


def event(driver, appointment_id):
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#cal-grid .cal-event[data-id="{appointment_id}"]')))


def calendar_at(driver, base_url, api, agent, day, email=OWNER):
    sign_in(driver, base_url, api, email=email, route=f"#/calendar?agent={agent['id']}&date={day.isoformat()}", page="calendar")
    grid_ready(driver)


def staff_sign_in(driver, base_url, api, email, route, page):
    """Platform staff who cannot list tenants name the demo tenant, then land where they were going."""
    sign_in(driver, base_url, api, email=email, route=route)
    page_ready(driver, "tenant")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "tenant-id"))).send_keys(tenant_of(api))
    driver.find_element(By.ID, "tenant-use").click()
    page_ready(driver, page)


def slot_starts(driver):
    return [b.get_attribute("data-start") for b in driver.find_elements(By.CSS_SELECTOR, "dialog[open] .slot-choice")]


def wait_slots(driver):
    return wait(driver).until(lambda d: slot_starts(d) or None)


def rows_of(driver, box="#bookings-list"):
    return [tr.get_attribute("data-id") for tr in driver.find_elements(By.CSS_SELECTOR, f"{box} tbody tr")]


def sql_one(sql, query):
    rows = sql(query)
    assert len(rows) == 1, rows
    return rows[0]


def owner_id(api):
    status, me = api.call("GET", "/v1/auth/me", api.login(OWNER))
    assert status == 200, me
    return me["id"]


# ---------- availability ----------

def add_interval(driver, weekday, start, end):
    day = driver.find_element(By.CSS_SELECTOR, f'.rules-day[data-weekday="{weekday}"]')
    click(driver, day.find_element(By.CSS_SELECTOR, ".rules-add"))
    row = day.find_elements(By.CSS_SELECTOR, ".rules-interval")[-1]
    set_value(driver, row.find_element(By.CSS_SELECTOR, ".iv-start"), start)
    set_value(driver, row.find_element(By.CSS_SELECTOR, ".iv-end"), end)
    return row


def preview_starts(driver):
    wait(driver).until(lambda d: d.find_element(By.ID, "preview-slots").get_attribute("data-ready") == "true")
    return [s.get_attribute("data-start") for s in driver.find_elements(By.CSS_SELECTOR, "#preview-slots .preview-slot")]


def api_slots(api, agent_id, minutes, tz=VIEWER_ZONE):
    status, answer = call(api, "GET", f"/v1/availability?agentId={agent_id}&duration={minutes}&tz={tz}")
    assert status == 200, answer
    return answer


def same_slots(page, api_answer, started):
    """The page's slots are the API's (both asked for the next 7 days from their own now: compared inside both)."""
    low = datetime.datetime.now(UTC) + datetime.timedelta(minutes=5)
    high = started + datetime.timedelta(days=7) - datetime.timedelta(hours=1)
    inside = lambda starts: sorted(s for s in starts if low <= instant(s) <= high)  # noqa: E731
    assert inside(page) == inside(s["startsAt"] for s in api_answer["slots"])
    return inside(page)


def test_a_calendar_made_in_the_availability_page_offers_the_free_slots_of_its_hours(browser, base_url, api, sql):
    name = unique("Amina")
    driver = viewer(browser)
    sign_in(driver, base_url, api, route="#/availability", page="availability")
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert links[links.index("billing") + 1:links.index("billing") + 4] == ["calendar", "availability", "bookings"], links

    # a new calendar: a person in Nairobi with a 45-minute viewing
    click(driver, driver.find_element(By.ID, "agent-create"))
    open_dialog(driver)
    fill(driver, "cal-agent-name", name)
    Select(driver.find_element(By.ID, "cal-agent-kind")).select_by_value("person")
    zones = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "cal-agent-zone")).options]
    assert {"Africa/Nairobi", "Europe/Malta", "America/Santiago", "Africa/Kigali"} <= set(zones), zones[:20]
    Select(driver.find_element(By.ID, "cal-agent-zone")).select_by_value(AGENT_ZONE)
    click(driver, driver.find_element(By.ID, "cal-agent-add-service"))
    driver.find_element(By.CSS_SELECTOR, ".duration-row .duration-name").send_keys("viewing")
    set_value(driver, driver.find_element(By.CSS_SELECTOR, ".duration-row .duration-minutes"), "45")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: d.find_element(By.ID, "agent-title").text == name)
    agent_id = driver.find_element(By.ID, "agent-id").text
    assert f"agent={agent_id}" in driver.execute_script("return location.hash")
    status, stored = call(api, "GET", f"/v1/calendar/agents/{agent_id}")
    assert status == 200 and (stored["name"], stored["kind"], stored["timeZone"], stored["serviceDurations"]) == (
        name, "person", AGENT_ZONE, {"viewing": 45}), stored
    # no hours yet: no slots, and the page says why
    assert preview_starts(driver) == []
    assert "no hours yet" in driver.find_element(By.ID, "preview-status").text

    # weekly hours on every day, 08:00–12:00 and 14:00–17:00; Monday's afternoon typed wrongly first (ends before it starts)
    for weekday in range(1, 8):
        add_interval(driver, weekday, "08:00", "12:00")
        add_interval(driver, weekday, "14:00", "13:00" if weekday == 1 else "17:00")
    # a closed date and a date with special hours (agent-local dates), 15 minutes free after each appointment, slots every 30
    closed_day = datetime.datetime.now(ZoneInfo(AGENT_ZONE)).date() + datetime.timedelta(days=2)
    special_day = closed_day + datetime.timedelta(days=1)
    for day, hours in ((closed_day, None), (special_day, ("10:00", "12:00"))):
        click(driver, driver.find_element(By.ID, "override-add"))
        row = driver.find_elements(By.CSS_SELECTOR, "#rules-overrides .override-row")[-1]
        set_value(driver, row.find_element(By.CSS_SELECTOR, ".override-date"), day.isoformat())
        if hours:
            closed = row.find_element(By.CSS_SELECTOR, ".override-closed")
            click(driver, closed)
            interval = row.find_element(By.CSS_SELECTOR, ".rules-interval")
            set_value(driver, interval.find_element(By.CSS_SELECTOR, ".iv-start"), hours[0])
            set_value(driver, interval.find_element(By.CSS_SELECTOR, ".iv-end"), hours[1])
    set_value(driver, driver.find_element(By.ID, "rules-buffer-after"), "15")
    set_value(driver, driver.find_element(By.ID, "rules-step"), "30")
    click(driver, driver.find_element(By.ID, "rules-save"))
    # refused by the API (422 invalid_schedule): said next to the form, the wrong time marked, nothing saved
    error = wait(driver).until(lambda d: d.find_element(By.ID, "rules-error").text or None)
    assert driver.find_element(By.ID, "rules-error").get_attribute("data-code") == "invalid_schedule"
    assert "not saved" in error and "Monday" in error and "ends before it starts" in error, error
    monday = driver.find_element(By.CSS_SELECTOR, '.rules-day[data-weekday="1"]').find_elements(By.CSS_SELECTOR, ".rules-interval")[1]
    assert monday.find_element(By.CSS_SELECTOR, ".iv-end").get_attribute("aria-invalid") == "true"
    status, rules = call(api, "GET", f"/v1/availability/rules?agentId={agent_id}")
    assert rules["schedule"]["weekly"] == [], rules
    # fixed and saved
    set_value(driver, monday.find_element(By.CSS_SELECTOR, ".iv-end"), "17:00")
    started = datetime.datetime.now(UTC)
    click(driver, driver.find_element(By.ID, "rules-save"))
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#rules-status[data-kind="ok"]'))
    assert not driver.find_element(By.ID, "rules-error").text
    status, rules = call(api, "GET", f"/v1/availability/rules?agentId={agent_id}")
    schedule = rules["schedule"]
    assert sorted((r["weekday"], r["start"], r["end"]) for r in schedule["weekly"]) == sorted(
        (d, s, e) for d in range(1, 8) for s, e in (("08:00", "12:00"), ("14:00", "17:00")))
    assert sorted((o["date"], [(i["start"], i["end"]) for i in o["intervals"]]) for o in schedule["overrides"]) == [
        (closed_day.isoformat(), []), (special_day.isoformat(), [("10:00", "12:00")])]
    assert (schedule["timeZone"], schedule["bufferAfterMinutes"], schedule["slotStepMinutes"], schedule.get("maxPerDay")) == (AGENT_ZONE, 15, 30, None)
    assert sql_one(sql, f"SELECT action FROM calendar.audit_log WHERE target_id = '{agent_id}' AND action = 'calendar_agent.schedule'") == [
        "calendar_agent.schedule"]

    # the preview: the API's free slots of 45 minutes in the viewer's zone, none on the closed day, the special day's only
    page = preview_starts(driver)
    shown = same_slots(page, api_slots(api, agent_id, 45), started)
    assert shown, "no free slots shown"
    nairobi = [instant(s).astimezone(ZoneInfo(AGENT_ZONE)) for s in shown]
    assert not [s for s in nairobi if s.date() == closed_day]
    # 10:00–12:00 with 45-minute slots every 30 minutes (the buffer after may reach past the hours)
    special = [s.time().isoformat("minutes") for s in nairobi if s.date() == special_day]
    assert special == ["10:00", "10:30", "11:00"], special
    # and the page's times are the viewer's: Nairobi's 10:00 is Malta's 08:00 in winter, 09:00 in summer
    ten = datetime.datetime.combine(special_day, datetime.time(10, 0), ZoneInfo(AGENT_ZONE))
    chip = next(c for c in driver.find_elements(By.CSS_SELECTOR, "#preview-slots .preview-slot") if instant(c.get_attribute("data-start")) == ten)
    assert chip.text == ten.astimezone(MALTA).strftime("%H:%M") and chip.text != "10:00"
    day_box = chip.find_element(By.XPATH, "ancestor::div[contains(@class, 'preview-day')]")
    assert day_box.get_attribute("data-day") == ten.astimezone(MALTA).date().isoformat()


def test_time_off_is_added_and_deleted_and_the_free_slots_follow(browser, base_url, api, sql):
    agent = make_agent(api)
    day = datetime.datetime.now(MALTA).date() + datetime.timedelta(days=2)
    driver = viewer(browser)
    sign_in(driver, base_url, api, route=f"#/availability?agent={agent['id']}", page="availability")
    before = preview_starts(driver)
    morning = [s for s in before if at(day, 8) <= instant(s) < at(day, 12)]
    assert morning, before

    # an end before the start is refused in the page, nothing is sent
    set_value(driver, driver.find_element(By.ID, "block-from-date"), day.isoformat())
    set_value(driver, driver.find_element(By.ID, "block-from-time"), "12:00")
    set_value(driver, driver.find_element(By.ID, "block-to-date"), day.isoformat())
    set_value(driver, driver.find_element(By.ID, "block-to-time"), "08:00")
    click(driver, driver.find_element(By.ID, "block-add"))
    assert "after the start" in wait(driver).until(lambda d: d.find_element(By.ID, "block-error").text or None)
    # 08:00–12:00 of the viewer's day, with a reason
    set_value(driver, driver.find_element(By.ID, "block-from-time"), "08:00")
    set_value(driver, driver.find_element(By.ID, "block-to-time"), "12:00")
    reason = 'Van service, "annual"'
    fill(driver, "block-reason", reason)
    click(driver, driver.find_element(By.ID, "block-add"))
    row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#blocks-list tbody tr")))
    assert row.find_element(By.CSS_SELECTOR, ".block-reason").text == reason
    assert row.find_element(By.CSS_SELECTOR, ".block-from").text.endswith("08:00")
    status, blocks = call(api, "GET", f"/v1/availability/blocks?agentId={agent['id']}")
    assert status == 200 and len(blocks["items"]) == 1, blocks
    block = blocks["items"][0]
    assert (instant(block["startsAt"]), instant(block["endsAt"]), block["reason"]) == (at(day, 8), at(day, 12), reason)
    assert sql_one(sql, f"SELECT reason FROM calendar.blocks WHERE agent_id = '{agent['id']}'") == [reason]
    # no free slot in the time off any more
    wait(driver).until(lambda d: not [s for s in preview_starts(d) if at(day, 8) <= instant(s) < at(day, 12)])
    assert [s for s in preview_starts(driver) if instant(s).date() != day or instant(s) >= at(day, 12)]

    # deleted: the morning is free again
    click(driver, row.find_element(By.CSS_SELECTOR, 'button[data-action="delete-block"]'))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#blocks-list tbody tr"))
    wait(driver).until(lambda d: [s for s in preview_starts(d) if at(day, 8) <= instant(s) < at(day, 12)] == morning)
    assert sql(f"SELECT count(*) FROM calendar.blocks WHERE agent_id = '{agent['id']}'") == [["0"]]
    assert [r[0] for r in sql(f"SELECT action FROM calendar.audit_log WHERE target_id = '{block['id']}' ORDER BY id")] == [
        "calendar_block.created", "calendar_block.deleted"]


# ---------- the calendar ----------

def test_an_appointment_booked_in_the_calendar_shows_in_the_week_at_the_viewers_time_in_its_colour(browser, base_url, api, sql):
    agent = make_agent(api, durations={"viewing": 45})
    day = next_week(2)  # a Wednesday
    driver = viewer(browser)
    calendar_at(driver, base_url, api, agent, day)
    period = driver.find_element(By.ID, "cal-period")
    monday = day - datetime.timedelta(days=2)
    assert (period.get_attribute("data-from"), period.get_attribute("data-to")) == (monday.isoformat(), (monday + datetime.timedelta(days=6)).isoformat())
    assert [c.get_attribute("data-day") for c in driver.find_elements(By.CSS_SELECTOR, "#cal-grid .cal-day")] == [
        (monday + datetime.timedelta(days=i)).isoformat() for i in range(7)]
    assert [li.get_attribute("data-status") for li in driver.find_elements(By.CSS_SELECTOR, "#cal-legend li")] == STATUSES
    assert "Europe/Malta" in driver.find_element(By.ID, "cal-zone").text
    assert not driver.find_elements(By.CSS_SELECTOR, "#cal-grid .cal-event")

    # the booking form: the agent chosen, its service's length filled in, Wednesday 10:00 in Malta
    click(driver, driver.find_element(By.ID, "cal-new"))
    open_dialog(driver)
    assert Select(driver.find_element(By.ID, "appt-agent")).first_selected_option.get_attribute("value") == agent["id"]
    title = unique("Viewing, plot")
    fill(driver, "appt-title", title)
    set_value(driver, driver.find_element(By.ID, "appt-date"), day.isoformat())
    set_value(driver, driver.find_element(By.ID, "appt-time"), "10:00")
    Select(driver.find_element(By.ID, "appt-service")).select_by_value("viewing")
    assert driver.find_element(By.ID, "appt-duration").get_attribute("value") == "45"
    fill(driver, "appt-contact-name", "Amani Otieno")
    fill(driver, "appt-contact-phone", "+254712345678")
    fill(driver, "appt-contact-email", "amani@example.com")
    Select(driver.find_element(By.ID, "appt-type")).select_by_value("property_visit")
    Select(driver.find_element(By.ID, "appt-status")).select_by_value("scheduled")
    fill(driver, "appt-notes", "Gate code 4411")
    # a double click books once (one Idempotency-Key for the attempt)
    ActionChains(driver).double_click(driver.find_element(By.CSS_SELECTOR, "dialog[open] button[type=submit]")).perform()
    no_dialog(driver)
    wait(driver).until(lambda d: d.find_element(By.ID, "cal-status").get_attribute("data-kind") == "ok")
    time.sleep(0.5)  # a second booking, had there been one, would be in by now
    rows = sql(f"SELECT id, status, source, type, service_type, contact_name, contact_phone, contact_email, notes, time_zone, "
               f"to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI'), to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') "
               f"FROM calendar.appointments WHERE agent_id = '{agent['id']}'")
    assert len(rows) == 1, rows
    start = at(day, 10).astimezone(UTC)
    end = start + datetime.timedelta(minutes=45)
    assert rows[0][1:] == ["scheduled", "manual", "property_visit", "viewing", "Amani Otieno", "+254712345678", "amani@example.com",
                           "Gate code 4411", AGENT_ZONE, start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")]
    appointment_id = rows[0][0]
    assert sql(f"SELECT action FROM calendar.audit_log WHERE target_id = '{appointment_id}'") == [["appointment.booked"]]

    # in the week: Wednesday's column, 10:00–10:45 in Malta (12:00 in Nairobi in winter), in the scheduled colour
    block = event(driver, appointment_id)
    column = block.find_element(By.XPATH, "ancestor::div[@data-day][1]")
    assert column.get_attribute("data-day") == day.isoformat()
    assert block.get_attribute("data-status") == "scheduled"
    assert block.find_element(By.CSS_SELECTOR, ".cal-event-hours").text == "10:00–10:45"
    assert title in block.text and block.find_element(By.CSS_SELECTOR, ".cal-event-mark").text == "○"
    # the status in words: in the block (cut off when it is short) and in its accessible name
    assert "Scheduled · Amani Otieno" in block.get_attribute("textContent")
    assert "Scheduled" in block.get_attribute("aria-label") and title in block.get_attribute("aria-label")
    colours = driver.execute_script("const s = getComputedStyle(arguments[0]); return [s.backgroundColor, s.borderLeftColor]", block)
    assert colours == ["rgb(225, 237, 251)", "rgb(10, 106, 166)"], colours
    first_hour = int(driver.find_element(By.ID, "cal-grid").get_attribute("data-first-hour"))
    assert block.value_of_css_property("top") == f"{(10 - first_hour) * 48}px"
    assert block.value_of_css_property("height") == f"{45 * 48 // 60 - 2}px"
    # the legend's swatch of that status has the same colour
    swatch = driver.find_element(By.CSS_SELECTOR, '#cal-legend li[data-status="scheduled"] .swatch')
    assert driver.execute_script("return getComputedStyle(arguments[0]).borderLeftColor", swatch) == "rgb(10, 106, 166)"
    # and in the period's list
    assert driver.find_element(By.CSS_SELECTOR, f'#cal-list tr[data-id="{appointment_id}"]').text.count(title) == 1

    # the day view: that Wednesday alone
    Select(driver.find_element(By.ID, "cal-view")).select_by_value("day")
    grid_ready(driver)
    wait(driver).until(lambda d: [c.get_attribute("data-day") for c in d.find_elements(By.CSS_SELECTOR, "#cal-grid .cal-day")] == [day.isoformat()])
    event(driver, appointment_id)
    assert "view=day" in driver.execute_script("return location.hash")
    # next day: nothing; previous: back; today: today's day
    click(driver, driver.find_element(By.ID, "cal-next"))
    wait(driver).until(lambda d: d.find_element(By.ID, "cal-period").get_attribute("data-from") == (day + datetime.timedelta(days=1)).isoformat())
    grid_ready(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, "#cal-grid .cal-event")
    click(driver, driver.find_element(By.ID, "cal-prev"))
    wait(driver).until(lambda d: d.find_element(By.ID, "cal-period").get_attribute("data-from") == day.isoformat())
    event(driver, appointment_id)
    click(driver, driver.find_element(By.ID, "cal-today"))
    today = datetime.datetime.now(MALTA).date().isoformat()
    wait(driver).until(lambda d: d.find_element(By.ID, "cal-period").get_attribute("data-from") == today)
    # the week again, from the address: the appointment opens on its page
    go(driver, f"#/calendar?agent={agent['id']}&date={day.isoformat()}", "calendar")
    grid_ready(driver)
    click(driver, event(driver, appointment_id))
    page_ready(driver, "calendar/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == title
    assert instant(driver.find_element(By.ID, "appt-when").get_attribute("data-start")) == start
    assert "10:00–10:45" in driver.find_element(By.ID, "appt-when").text
    assert driver.find_element(By.ID, "appt-contact").text == "Amani Otieno · +254712345678 · amani@example.com"


def test_a_taken_time_is_refused_with_the_next_free_slots_and_one_of_them_books(browser, base_url, api, sql):
    agent = make_agent(api)
    day = next_week(3)  # a Thursday
    first = book(api, agent, at(day, 10), 60, title="First")
    driver = viewer(browser)
    calendar_at(driver, base_url, api, agent, day)
    event(driver, first["id"])

    click(driver, driver.find_element(By.ID, "cal-new"))
    open_dialog(driver)
    fill(driver, "appt-title", "Second try")
    set_value(driver, driver.find_element(By.ID, "appt-date"), day.isoformat())
    set_value(driver, driver.find_element(By.ID, "appt-time"), "10:00")
    set_value(driver, driver.find_element(By.ID, "appt-duration"), "60")
    submit_dialog(driver)
    assert "That time is taken" in dialog_error(driver)
    offered = wait_slots(driver)
    # the same booking through the API: 409 slot_taken with the same next slots
    status, refusal = call(api, "POST", "/v1/appointments", {"agentId": agent["id"], "startsAt": iso(at(day, 10)), "durationMinutes": 60},
                           key=str(uuid.uuid4()))
    assert status == 409 and refusal["error"]["code"] == "slot_taken", refusal
    assert [instant(s) for s in offered] == [instant(s["startsAt"]) for s in refusal["nextSlots"]] and len(offered) == 5
    buttons = driver.find_elements(By.CSS_SELECTOR, "dialog[open] .slot-choice")
    slot = instant(offered[0])
    assert buttons[0].text.endswith(f"{slot.astimezone(MALTA):%H:%M}–{slot.astimezone(MALTA) + datetime.timedelta(hours=1):%H:%M}")
    # a slot fills the form in; Book books it
    click(driver, buttons[0])
    assert driver.find_element(By.ID, "appt-date").get_attribute("value") == slot.astimezone(MALTA).date().isoformat()
    assert driver.find_element(By.ID, "appt-time").get_attribute("value") == f"{slot.astimezone(MALTA):%H:%M}"
    assert "Filled in" in driver.find_element(By.ID, "appt-filled").text
    submit_dialog(driver)
    no_dialog(driver)
    rows = sql(f"SELECT id, title, status FROM calendar.appointments WHERE agent_id = '{agent['id']}' AND starts_at = '{iso(slot)}'")
    assert len(rows) == 1 and rows[0][1:] == ["Second try", "scheduled"], rows
    block = event(driver, rows[0][0])
    assert block.find_element(By.CSS_SELECTOR, ".cal-event-hours").text.startswith(f"{slot.astimezone(MALTA):%H:%M}")
    assert sql(f"SELECT count(*) FROM calendar.appointments WHERE agent_id = '{agent['id']}'") == [["2"]]


def test_rescheduling_confirming_and_cancelling_on_the_appointments_page_change_the_rows_and_leave_audit_rows(browser, base_url, api, sql):
    agent = make_agent(api)
    day = next_week(1)  # a Tuesday
    moving = book(api, agent, at(day, 10), 60, title="Site visit", contactName="Wanjiru")
    other = book(api, agent, at(day, 12), 60, title="Other visit")
    driver = viewer(browser)
    calendar_at(driver, base_url, api, agent, day)
    click(driver, event(driver, moving["id"]))
    page_ready(driver, "calendar/:id")
    # a future scheduled appointment: confirm, reschedule, cancel; not yet completed or a no-show
    assert [b.get_attribute("id") for b in driver.find_elements(By.CSS_SELECTOR, "#appt-head button[data-write]")] == [
        "appt-confirm", "appt-reschedule", "appt-cancel"]
    assert "once it has started" in driver.find_element(By.ID, "appt-note").text

    # moved into the other appointment's time: refused, with the next free slots; one of them moves it
    click(driver, driver.find_element(By.ID, "appt-reschedule"))
    open_dialog(driver)
    assert driver.find_element(By.ID, "resched-time").get_attribute("value") == "10:00"
    set_value(driver, driver.find_element(By.ID, "resched-time"), "12:00")
    fill(driver, "resched-reason", "Client asked")
    submit_dialog(driver)
    assert "That time is taken" in dialog_error(driver)
    offered = wait_slots(driver)
    status, refusal = call(api, "POST", f"/v1/appointments/{moving['id']}/reschedule", {"startsAt": iso(at(day, 12))})
    assert status == 409 and [instant(s["startsAt"]) for s in refusal["nextSlots"]] == [instant(s) for s in offered], refusal
    slot = instant(offered[0])
    click(driver, driver.find_elements(By.CSS_SELECTOR, "dialog[open] .slot-choice")[0])
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: instant(d.find_element(By.ID, "appt-when").get_attribute("data-start")) == slot)
    assert "Moved to" in driver.find_element(By.ID, "appt-status-line").text
    earlier = driver.find_elements(By.CSS_SELECTOR, "#appt-reschedules tbody tr")
    assert len(earlier) == 1 and instant(earlier[0].find_element(By.CSS_SELECTOR, ".resched-was").get_attribute("data-start")) == at(day, 10)
    assert "Client asked" in earlier[0].text
    row = sql_one(sql, f"SELECT status, starts_at = '{iso(slot)}', ends_at - starts_at = interval '1 hour', reschedules->0->>'reason', "
                       f"(reschedules->0->>'startsAt')::timestamptz = '{iso(at(day, 10))}' FROM calendar.appointments WHERE id = '{moving['id']}'")
    assert row == ["scheduled", "t", "t", "Client asked", "t"], row

    # confirmed
    click(driver, driver.find_element(By.ID, "appt-confirm"))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "#appt-status .appt-status").get_attribute("data-status") == "confirmed")
    assert not driver.find_elements(By.ID, "appt-confirm")
    assert sql_one(sql, f"SELECT status FROM calendar.appointments WHERE id = '{moving['id']}'") == ["confirmed"]

    # cancelled, with a reason (required)
    click(driver, driver.find_element(By.ID, "appt-cancel"))
    open_dialog(driver)
    reason = driver.find_element(By.CSS_SELECTOR, "dialog[open] textarea[name=reason]")
    submit_dialog(driver)
    assert driver.execute_script("return arguments[0].validity.valueMissing", reason)
    reason.send_keys("Customer travelling, will call back")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "#appt-status .appt-status").get_attribute("data-status") == "cancelled")
    assert not driver.find_elements(By.CSS_SELECTOR, "#appt-head [data-write]")
    assert driver.find_element(By.ID, "appt-cancel-reason").text == "Customer travelling, will call back"
    row = sql_one(sql, f"SELECT status, cancellation_reason, cancelled_at IS NOT NULL FROM calendar.appointments WHERE id = '{moving['id']}'")
    assert row == ["cancelled", "Customer travelling, will call back", "t"], row
    assert sql_one(sql, f"SELECT status FROM calendar.appointments WHERE id = '{other['id']}'") == ["scheduled"]

    # the audit rows: one per change, by the owner, in order, with what changed
    audit = sql(f"SELECT action, actor, tenant_id, diff->'status'->>'after', diff->'cancellationReason'->>'after' "
                f"FROM calendar.audit_log WHERE target_table = 'appointments' AND target_id = '{moving['id']}' ORDER BY id")
    me = owner_id(api)
    assert [r[0] for r in audit] == ["appointment.booked", "appointment.rescheduled", "appointment.confirmed", "appointment.cancelled"], audit
    assert {r[1] for r in audit} == {me} and {r[2] for r in audit} == {tenant_of(api)}
    assert audit[2][3] == "confirmed" and audit[3][3:] == ["cancelled", "Customer travelling, will call back"]
    moved = sql_one(sql, f"SELECT (diff->'startsAt'->>'before')::timestamptz = '{iso(at(day, 10))}', (diff->'startsAt'->>'after')::timestamptz = '{iso(slot)}' "
                         f"FROM calendar.audit_log WHERE target_id = '{moving['id']}' AND action = 'appointment.rescheduled'")
    assert moved == ["t", "t"]
    # the page's history says the same
    assert [s.get_attribute("data-action") for s in driver.find_elements(By.CSS_SELECTOR, "#appt-history .history-action")] == [r[0] for r in audit]
    # and back in the week it is drawn as cancelled, at its new time
    click(driver, driver.find_element(By.ID, "appt-back"))
    page_ready(driver, "calendar")
    grid_ready(driver)
    block = event(driver, moving["id"])
    assert block.get_attribute("data-status") == "cancelled" and instant(block.get_attribute("data-start")) == slot


def test_a_past_appointment_is_marked_a_no_show_and_a_refused_action_is_said_in_words(browser, base_url, api, sql):
    agent = make_agent(api, hours=(("00:00", "24:00"),))
    start = datetime.datetime.now(UTC).replace(second=0, microsecond=0) - datetime.timedelta(hours=2)
    past = book(api, agent, start, 30, title="Early call")
    driver = viewer(browser)
    sign_in(driver, base_url, api, route=f"#/calendar/{past['id']}", page="calendar/:id")
    # started: it may be completed or a no-show as well
    assert [b.get_attribute("id") for b in driver.find_elements(By.CSS_SELECTOR, "#appt-head button[data-write]")] == [
        "appt-confirm", "appt-reschedule", "appt-complete", "appt-no-show", "appt-cancel"]
    # confirmed meanwhile by someone else: the page's Confirm is refused by the API, in words, and nothing changes
    status, _ = call(api, "POST", f"/v1/appointments/{past['id']}/confirm")
    assert status == 200
    click(driver, driver.find_element(By.ID, "appt-confirm"))
    open_dialog(driver)
    submit_dialog(driver)
    assert "cannot do that in its present status" in dialog_error(driver)
    driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]").click()
    no_dialog(driver)
    # closing it reads the appointment again: confirmed now, no Confirm any more
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "#appt-status .appt-status").get_attribute("data-status") == "confirmed")
    assert not driver.find_elements(By.ID, "appt-confirm")
    # a no-show
    click(driver, driver.find_element(By.ID, "appt-no-show"))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "#appt-status .appt-status").get_attribute("data-status") == "no_show")
    assert not driver.find_elements(By.CSS_SELECTOR, "#appt-head [data-write]")
    assert sql_one(sql, f"SELECT status FROM calendar.appointments WHERE id = '{past['id']}'") == ["no_show"]
    assert [r[0] for r in sql(f"SELECT action FROM calendar.audit_log WHERE target_id = '{past['id']}' ORDER BY id")] == [
        "appointment.booked", "appointment.confirmed", "appointment.no_show"]
    # drawn in the no-show colour, with its mark
    go(driver, f"#/calendar?agent={agent['id']}&view=day&date={start.astimezone(MALTA).date().isoformat()}", "calendar")
    grid_ready(driver)
    block = event(driver, past["id"])
    assert driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", block) == "rgb(253, 227, 224)"
    assert "No-show" in block.get_attribute("textContent") and block.find_element(By.CSS_SELECTOR, ".cal-event-mark").text == "!"


def test_a_browser_set_to_utc_gets_its_free_slots(browser, base_url, api):
    """A browser in UTC (a server's or a container's zone) reports `UTC`, which calendar-booking has refused as `tz`
    while it takes `Etc/UTC`: the page asks with that, and shows the slots in UTC."""
    agent = make_agent(api)
    driver = browser("desktop")
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "UTC"})
    sign_in(driver, base_url, api, route=f"#/availability?agent={agent['id']}", page="availability")
    assert driver.execute_script("return Intl.DateTimeFormat().resolvedOptions().timeZone") == "UTC"
    preview_starts(driver)
    started = datetime.datetime.now(UTC)
    Select(driver.find_element(By.ID, "preview-duration")).select_by_value("60")
    page = preview_starts(driver)
    assert page and driver.find_element(By.ID, "preview-status").get_attribute("data-kind") != "error"
    same_slots(page, api_slots(api, agent["id"], 60, tz="Etc/UTC"), started)
    first = driver.find_element(By.CSS_SELECTOR, "#preview-slots .preview-slot")
    assert first.text == f"{instant(first.get_attribute('data-start')):%H:%M}"


# ---------- bookings ----------

@pytest.fixture
def bookings(api):
    """Two calendars open all day; twelve appointments of the first over four days of a week in a fortnight (statuses,
    sources, services, payments and names with commas, quotes and a line break), two of the second."""
    a = make_agent(api, name=unique("Bookings A"), hours=(("00:00", "24:00"),), durations={"viewing": 45, "pickup": 90})
    b = make_agent(api, name=unique("Bookings B"), hours=(("00:00", "24:00"),))
    first = next_week(7)  # Monday in two weeks
    specs = [
        (0, 9, {"title": 'Viewing, "Plot 7"', "serviceType": "viewing", "contactName": "Wanjiru, Akinyi", "contactPhone": "+254712000001",
                "payment": {"amount": {"amount": "1500.00", "currency": "KES"}}}),
        (0, 11, {"serviceType": "pickup", "source": "web"}),
        (0, 14, {"title": "Line one\nLine two", "source": "whatsapp"}),
        (1, 8, {"serviceType": "viewing", "status": "confirmed"}),
        (1, 10, {"serviceType": "pickup", "source": "web"}),
        (1, 15, {"contactEmail": "kim@example.com"}),
        (2, 9, {"serviceType": "viewing", "status": "pending", "holdMinutes": 1440}),
        (2, 12, {"serviceType": "pickup", "payment": {"amount": {"amount": "200.00", "currency": "KES"}}}),
        (2, 16, {"source": "web"}),
        (3, 9, {"serviceType": "viewing"}),
        (3, 11, {"serviceType": "pickup", "status": "confirmed"}),
        (3, 13, {}),
    ]
    made = []
    for offset, hour, extra in specs:
        made.append(book(api, a, at(first + datetime.timedelta(days=offset), hour), 30, **extra))
    # one cancelled, one paid
    status, _ = call(api, "POST", f"/v1/appointments/{made[5]['id']}/cancel", {"reason": "Moved away"})
    assert status == 200
    status, _ = call(api, "PATCH", f"/v1/appointments/{made[0]['id']}", {"paymentStatus": "paid"})
    assert status == 200
    for offset in (0, 1):
        book(api, b, at(first + datetime.timedelta(days=offset), 9), 30)
    return {"a": a, "b": b, "first": first, "made": made}


def apply_filters(driver):
    click(driver, driver.find_element(By.ID, "bk-apply"))


def shown_ids(driver, expected):
    wait(driver).until(lambda d: rows_of(d) == expected)
    return expected


def test_the_bookings_page_filters_pages_and_exports_the_filtered_list_as_csv(browser, base_url, api, bookings, tmp_path):
    a, first = bookings["a"], bookings["first"]
    everything = [x["id"] for x in listed(api, agentId=a["id"])]
    assert len(everything) == 12
    driver = viewer(browser)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    sign_in(driver, base_url, api, route=f"#/bookings?agent={a['id']}", page="bookings")
    shown_ids(driver, everything)
    # soonest first, with the payment's amount and status
    starts = [e.get_attribute("data-start") for e in driver.find_elements(By.CSS_SELECTOR, "#bookings-list .bk-when")]
    assert starts == sorted(starts, key=instant)
    paid = driver.find_element(By.CSS_SELECTOR, f'#bookings-list tr[data-id="{bookings["made"][0]["id"]}"] .appt-payment')
    assert (paid.get_attribute("data-amount"), paid.get_attribute("data-currency"), paid.get_attribute("data-status")) == ("1500.00", "KES", "paid")
    assert "Paid" in paid.text and "1,500.00" in paid.text
    cancelled = driver.find_element(By.CSS_SELECTOR, f'#bookings-list tr[data-id="{bookings["made"][5]["id"]}"] .appt-status')
    assert cancelled.get_attribute("data-status") == "cancelled"

    # each filter is the API's
    for control, value, query in (("bk-status", "confirmed", {"status": "confirmed"}), ("bk-source", "web", {"source": "web"})):
        Select(driver.find_element(By.ID, control)).select_by_value(value)
        apply_filters(driver)
        assert len(shown_ids(driver, [x["id"] for x in listed(api, agentId=a["id"], **query)])) in (2, 3)
        assert f"{query and list(query)[0]}={value}" in driver.execute_script("return location.hash")
        Select(driver.find_element(By.ID, control)).select_by_value("")
    fill(driver, "bk-service", "pickup")
    apply_filters(driver)
    assert len(shown_ids(driver, [x["id"] for x in listed(api, agentId=a["id"], serviceType="pickup")])) == 4
    driver.find_element(By.ID, "bk-service").clear()
    # days in the viewer's zone, the last one included
    set_value(driver, driver.find_element(By.ID, "bk-from"), (first + datetime.timedelta(days=1)).isoformat())
    set_value(driver, driver.find_element(By.ID, "bk-to"), (first + datetime.timedelta(days=2)).isoformat())
    apply_filters(driver)
    middle = [x["id"] for x in listed(api, agentId=a["id"], **{"from": midnight(first + datetime.timedelta(days=1)),
                                                               "to": midnight(first + datetime.timedelta(days=3))})]
    assert len(shown_ids(driver, middle)) == 6
    # a range that ends before it starts is refused in the page
    set_value(driver, driver.find_element(By.ID, "bk-to"), first.isoformat())
    apply_filters(driver)
    wait(driver).until(lambda d: d.find_element(By.ID, "bookings-status").get_attribute("data-kind") == "error")
    set_value(driver, driver.find_element(By.ID, "bk-from"), "")
    set_value(driver, driver.find_element(By.ID, "bk-to"), "")

    # ten a page: the cursor's next page has the last two; previous goes back
    Select(driver.find_element(By.ID, "bk-size")).select_by_value("10")
    shown_ids(driver, everything[:10])
    assert driver.find_element(By.ID, "bookings-page").text == "Page 1"
    click(driver, driver.find_element(By.ID, "bookings-next"))
    shown_ids(driver, everything[10:])
    assert driver.find_element(By.ID, "bookings-page").text == "Page 2" and not driver.find_element(By.ID, "bookings-next").is_enabled()
    click(driver, driver.find_element(By.ID, "bookings-prev"))
    shown_ids(driver, everything[:10])

    # the CSV of the filtered list: every page (not only the ten shown), a header row, RFC 4180 quoting
    click(driver, driver.find_element(By.ID, "bookings-export"))
    link = wait(driver).until(EC.visibility_of_element_located((By.ID, "bookings-download")))
    assert link.get_attribute("data-rows") == "12"
    path = pathlib.Path(tmp_path) / link.get_attribute("download")
    deadline = time.time() + 20
    while not (path.exists() and path.stat().st_size) and time.time() < deadline:
        time.sleep(0.1)
    raw = path.read_bytes().decode()
    assert link.get_attribute("data-bytes") == str(len(raw.encode()))
    assert raw.endswith("\r\n") and raw.startswith(",".join(CSV_HEADER) + "\r\n")
    assert '"Viewing, ""Plot 7"""' in raw and '"Wanjiru, Akinyi"' in raw and '"Line one\nLine two"' in raw
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows[0] == CSV_HEADER and [r[0] for r in rows[1:]] == everything
    by_id = {r[0]: dict(zip(CSV_HEADER, r)) for r in rows[1:]}
    made = bookings["made"]
    one = by_id[made[0]["id"]]
    assert (one["title"], one["contact_name"], one["contact_phone"], one["payment_amount"], one["payment_currency"], one["payment_status"]) == (
        'Viewing, "Plot 7"', "Wanjiru, Akinyi", "+254712000001", "1500.00", "KES", "paid")
    assert (one["agent"], one["agent_id"], one["time_zone"], one["status"], one["service_type"], one["source"]) == (
        a["name"], a["id"], AGENT_ZONE, "scheduled", "viewing", "manual")
    assert instant(one["starts_at"]) == at(first, 9) and one["local_start"].startswith(f"{at(first, 9).astimezone(ZoneInfo(AGENT_ZONE)):%Y-%m-%dT%H:%M}")
    assert by_id[made[2]["id"]]["title"] == "Line one\nLine two"
    assert (by_id[made[5]["id"]]["status"], by_id[made[5]["id"]]["cancellation_reason"]) == ("cancelled", "Moved away")
    assert by_id[made[6]["id"]]["status"] == "pending" and by_id[made[1]["id"]]["source"] == "web"
    # the same with a filter: only what it names
    Select(driver.find_element(By.ID, "bk-status")).select_by_value("confirmed")
    apply_filters(driver)
    confirmed = shown_ids(driver, [x["id"] for x in listed(api, agentId=a["id"], status="confirmed")])
    click(driver, driver.find_element(By.ID, "bookings-export"))
    wait(driver).until(lambda d: d.find_element(By.ID, "bookings-download").get_attribute("data-rows") == str(len(confirmed)))


# ---------- who sees what ----------

@pytest.mark.parametrize("email", STAFF_READERS)
def test_read_only_staff_see_the_calendar_pages_with_no_control_that_writes(browser, base_url, api, email):
    agent = make_agent(api, durations={"viewing": 45})
    day = next_week(4)
    booked = book(api, agent, at(day, 11), 45, contactName="Read Me")
    status, _ = call(api, "POST", "/v1/availability/blocks", {"agentId": agent["id"], "startsAt": iso(at(day, 14)), "endsAt": iso(at(day, 15)), "reason": "Off"})
    assert status == 201
    driver = viewer(browser)
    staff_sign_in(driver, base_url, api, email, f"#/calendar?agent={agent['id']}&date={day.isoformat()}", "calendar")
    grid_ready(driver)
    menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert {"calendar", "availability", "bookings"} <= set(menu), menu
    block = event(driver, booked["id"])
    assert block.find_element(By.CSS_SELECTOR, ".cal-event-hours").text == "11:00–11:45"
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]") and not driver.find_elements(By.ID, "cal-new")
    # a click on a free spot books nothing: no dialog
    click(driver, driver.find_element(By.CSS_SELECTOR, f'#cal-grid .cal-day[data-day="{day.isoformat()}"]'))
    assert not driver.find_elements(By.CSS_SELECTOR, "dialog[open]")
    go(driver, f"#/calendar/{booked['id']}", "calendar/:id")
    assert driver.find_element(By.ID, "appt-contact").text == "Read Me"
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    go(driver, f"#/availability?agent={agent['id']}", "availability")
    wait(driver).until(lambda d: d.find_elements(By.ID, "rules-text"))
    assert "08:00–18:00" in driver.find_element(By.ID, "rules-text").text
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#blocks-list tbody tr"))
    assert preview_starts(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    for control in ("agent-create", "agent-edit", "rules-form", "rules-save", "block-form", "override-add"):
        assert not driver.find_elements(By.ID, control), control
    go(driver, f"#/bookings?agent={agent['id']}", "bookings")
    shown_ids(driver, [booked["id"]])
    assert driver.find_element(By.ID, "bookings-export").is_displayed()
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    # and the API refuses their writes whatever the page shows
    tenant = tenant_of(api)
    token = api.login(email)
    for method, path, body in (("POST", "/v1/appointments", {"agentId": agent["id"], "startsAt": iso(at(day, 16)), "durationMinutes": 30}),
                               ("POST", f"/v1/appointments/{booked['id']}/cancel", {"reason": "x"}),
                               ("POST", f"/v1/appointments/{booked['id']}/reschedule", {"startsAt": iso(at(day, 16))}),
                               ("PUT", "/v1/availability/rules", {"agentId": agent["id"], "schedule": {"timeZone": AGENT_ZONE}}),
                               ("POST", "/v1/availability/blocks", {"agentId": agent["id"], "startsAt": iso(at(day, 16)), "endsAt": iso(at(day, 17))}),
                               ("POST", "/v1/calendar/agents", {"name": "x", "timeZone": AGENT_ZONE})):
        status, answer = call(api, method, path, body, key=str(uuid.uuid4()), tenant=tenant, token=token)
        assert status == 403, f"{method} {path} as {email}: {status} {answer}"
    assert appointment(api, booked["id"])["status"] == "scheduled"


def test_an_agent_books_and_takes_time_off_but_does_not_plan_the_hours(browser, base_url, api):
    agent = make_agent(api)
    day = next_week(4)
    booked = book(api, agent, at(day, 9), 30)
    driver = viewer(browser)
    calendar_at(driver, base_url, api, agent, day, email=AGENT_USER)
    assert driver.find_element(By.ID, "cal-new").is_displayed()
    go(driver, f"#/calendar/{booked['id']}", "calendar/:id")
    assert driver.find_elements(By.ID, "appt-confirm") and driver.find_elements(By.ID, "appt-cancel")
    go(driver, f"#/availability?agent={agent['id']}", "availability")
    wait(driver).until(lambda d: d.find_elements(By.ID, "rules-text"))
    assert driver.find_elements(By.ID, "block-form")
    assert not driver.find_elements(By.ID, "rules-form") and not driver.find_elements(By.ID, "agent-create") and not driver.find_elements(By.ID, "agent-edit")


def test_a_second_tenants_admin_sees_none_of_the_first_tenants_calendar(browser, base_url, api):
    agent = make_agent(api, name=unique("First tenant cal"))
    day = next_week(2)
    theirs = book(api, agent, at(day, 10), 60, title=unique("First tenant visit"))
    # a second tenant with its own admin, calendar and appointment
    slug = f"cal-{uuid.uuid4().hex[:8]}"
    status, second = api.call("POST", "/v1/tenants", api.login(SUPER), body={"name": f"Calendar {slug}", "slug": slug, "plan": "pro", "currency": "KES"})
    assert status == 201, second
    email, password = f"cal-{uuid.uuid4().hex[:8]}@example.com", "second-tenant-calendar-1"
    status, user = api.call("POST", "/v1/users", api.login(SUPER), body={
        "email": email, "password": password, "name": "Second admin", "tenantId": second["id"], "roles": ["tenant_admin"]})
    assert status == 201, user
    token = api.login(email, password)
    # nothing of the first tenant through the API
    status, page = api.call("GET", "/v1/calendar/agents", token)
    assert status == 200 and page["items"] == [], page
    assert api.call("GET", f"/v1/appointments/{theirs['id']}", token)[0] == 404
    assert api.call("GET", f"/v1/availability/rules?agentId={agent['id']}", token)[0] == 404
    status, page = api.call("GET", f"/v1/appointments?from={midnight(day)}&to={midnight(day + datetime.timedelta(days=1))}", token)
    assert status == 200 and page["items"] == [], page

    driver = viewer(browser)
    driver.get(f"{base_url}/admin/#/calendar?date={day.isoformat()}")
    wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#signin-form input[name=email]"))).send_keys(email)
    driver.find_element(By.CSS_SELECTOR, "#signin-form input[name=password]").send_keys(password)
    driver.find_element(By.ID, "signin-submit").click()
    page_ready(driver, "calendar")
    grid_ready(driver)
    assert driver.find_element(By.ID, "cal-no-agents").is_displayed()
    assert [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "cal-agent")).options] == [""]
    assert not driver.find_elements(By.CSS_SELECTOR, "#cal-grid .cal-event")
    go(driver, "#/bookings", "bookings")
    wait(driver).until(lambda d: "No appointments" in d.find_element(By.ID, "bookings-status").text)
    assert rows_of(driver) == []
    go(driver, "#/availability", "availability")
    assert driver.find_element(By.ID, "avail-none").is_displayed()
    go(driver, f"#/calendar/{theirs['id']}", "calendar/:id")
    assert "no such appointment" in wait(driver).until(lambda d: d.find_element(By.ID, "appt-status-line").text or None)
    # its own calendar and appointment show, still none of the first tenant's
    own = make_agent(api, name=unique("Second tenant cal"), token=token)
    mine = book(api, own, at(day, 10), 60, token=token)
    go(driver, f"#/calendar?date={day.isoformat()}", "calendar")
    grid_ready(driver)
    assert [e.get_attribute("data-id") for e in driver.find_elements(By.CSS_SELECTOR, "#cal-grid .cal-event")] == [mine["id"]]
    go(driver, "#/bookings", "bookings")
    assert wait(driver).until(lambda d: rows_of(d) or None) == [mine["id"]]


def test_the_calendar_pages_fit_a_360_pixel_phone(browser, base_url, api):
    agent = make_agent(api, name=unique("Phone cal"), durations={"viewing": 45, "a-very-long-service-name-for-a-narrow-screen": 90})
    other = make_agent(api, name=unique("Phone cal two"))
    day = next_week(2)
    book(api, agent, at(day, 10), 60, title="A long title for a narrow phone screen, with a comma", contactName="Someone With A Long Name")
    # at the same time in another calendar: side by side in the all-calendars view
    book(api, other, at(day, 10, 30), 30, title="Overlapping, in the other calendar")
    driver = viewer(browser, "phone")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    calendar_at(driver, base_url, api, agent, day)

    def wide():
        return driver.execute_script("""
            const limit = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')].filter((e) => !e.closest('thead, .visually-hidden'))
              .filter((e) => e.getBoundingClientRect().right > limit + 1)
              .slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className);""")

    assert driver.execute_script("return document.documentElement.clientWidth") == 360
    assert wide() == []
    for route in (f"#/calendar?date={day.isoformat()}", f"#/calendar?date={day.isoformat()}&view=day"):
        go(driver, route, "calendar")
        grid_ready(driver)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#cal-grid .cal-event")) >= 2
        assert wide() == [], f"{route} is wider than 360 px: {wide()}"
    go(driver, f"#/availability?agent={agent['id']}", "availability")
    preview_starts(driver)
    assert wide() == [], f"availability is wider than 360 px: {wide()}"
    go(driver, f"#/bookings?agent={agent['id']}", "bookings")
    wait(driver).until(lambda d: rows_of(d))
    assert wide() == [], f"bookings is wider than 360 px: {wide()}"
    go(driver, f"#/calendar?agent={agent['id']}&date={day.isoformat()}", "calendar")
    grid_ready(driver)
    click(driver, driver.find_element(By.ID, "cal-new"))
    open_dialog(driver)
    assert wide() == []
