"""The console's sequence pages (views/sequences.js, sequence-edit.js, sequence-steps.js, sequence-enrollments.js) in a
real Chromium, against messaging (and agent-core's leads) through the gateway. Every test works in a tenant of its
own, with its admin, a sandbox channel (it "sends" into the sandbox outbox) and the tenant's quiet hours off, as
test_campaigns.py makes it, so what it reads is its own.

A sequence is built in the editor: a message step (an approved template of the channel, its variables, one of them
{{lead.name}}) and a move to a stage; a third step is added, moved up and removed again, the delays typed in their
units; it is saved, and after a reload the page and the list show it as the API holds it. A trigger's parameter and a
meeting step (a calendar and its service) are sent as typed, and a sequence the API refuses to create says why. A lead made through the
API is found by name and enrolled from the page; the page follows its log until it completes, the lead got the
message with its own name (the sandbox outbox) and sits in the stage the sequence moved it to; enrolling it again
says it is already in. A save the API refuses says the API's reason (and marks the step it names), nothing saved;
pause shows paused, and a paused sequence refuses to enrol, as does a lead who opted out, each with its reason.
The enrolled leads (their phone numbers) are for the tenant's admin: read-only and data_ops staff see the sequence
without them, read-only staff no control that writes."""
import re
import time
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from calendar_tenant import sign_in_with
from console import click, go, page_holds, page_ready, wait
from test_campaigns import Shop, rwanda_number, staff_page

READONLY = "readonly@sokoni.local"
DATAOPS = "dataops@sokoni.local"
BODY = "Habari {{1}}, karibu {{2}}."


# ---------- a tenant of the test's own, with leads and sequences ----------

class Sequences(Shop):
    """The campaign tests' tenant (its admin, a sandbox channel, no quiet hours), with leads and sequences."""

    def lead(self, name=None, **extra):
        status, lead = self.call("POST", "/v1/leads", {"phone": rwanda_number(), "name": name or f"Lead {uuid.uuid4().hex[:6]}", **extra})
        assert status == 201, lead
        return lead

    def get_lead(self, lead_id):
        status, lead = self.call("GET", f"/v1/leads/{lead_id}")
        assert status == 200, lead
        return lead

    def sequence(self, template, name=None, stage="qualified", **extra):
        """A manual sequence: the template at once (the lead's name and "Sokoni"), then a move to `stage`."""
        status, sequence = self.call("POST", "/v1/sequences", {
            "name": name or f"Welcome {uuid.uuid4().hex[:6]}", "channelId": self.sandbox["id"], "trigger": "manual",
            "steps": [
                {"delayMinutes": 0, "action": "send_message", "templateId": template["id"], "variables": ["{{lead.name}}", "Sokoni"]},
                {"delayMinutes": 0, "action": "update_stage", "stage": stage},
            ], **extra}, key=str(uuid.uuid4()))
        assert status == 201, sequence
        return sequence

    def get_sequence(self, sequence_id):
        status, sequence = self.call("GET", f"/v1/sequences/{sequence_id}")
        assert status == 200, sequence
        return sequence

    def sequences(self):
        status, page = self.call("GET", "/v1/sequences?limit=200")
        assert status == 200, page
        return page["items"]

    def enrollments(self, sequence_id):
        status, page = self.call("GET", f"/v1/sequences/{sequence_id}/enrollments?limit=200")
        assert status == 200, page
        return page["items"]


@pytest.fixture
def shop(api):
    return Sequences(api)


# ---------- the page ----------

def owner_page(driver, base_url, shop, route, page):
    return sign_in_with(driver, base_url, shop.email, shop.password, route, page)


def text(driver, selector):
    return re.sub(r"\s+", " ", driver.find_element(By.CSS_SELECTOR, selector).text).strip()


def says(driver, selector, words, seconds=20):
    """Until the element's text holds `words`; its text."""
    return wait(driver, seconds).until(lambda d: words in text(d, selector) and text(d, selector), f"{selector} never said {words!r}")


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#sequence-steps > li.seq-step")


def actions(driver):
    return [r.get_attribute("data-action") for r in rows(driver)]


def in_row(row, selector):
    return row.find_element(By.CSS_SELECTOR, selector)


def fill(element, value):
    element.clear()
    element.send_keys(value)


def choose(element, value):
    Select(element).select_by_value(value)


def templates_in(row):
    return [o.get_attribute("value") for o in in_row(row, ".seq-template").find_elements(By.TAG_NAME, "option") if o.get_attribute("value")]


def sequence_id_on_page(driver):
    return driver.find_element(By.CSS_SELECTOR, "#main h1").get_attribute("data-id")


def enrollment_row(driver, lead_id):
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#enrollments-list tr[data-lead="{lead_id}"]')))


def enrol_from_page(driver, search):
    fill(driver.find_element(By.ID, "enrol-q"), search)
    click(driver, driver.find_element(By.ID, "enrol-find"))
    wait(driver).until(lambda d: d.find_element(By.ID, "enrol-submit").is_enabled())
    click(driver, driver.find_element(By.ID, "enrol-submit"))


# ---------- building, saving, reopening ----------

def test_a_sequence_is_built_step_by_step_saved_and_shown_again_after_a_reload(browser, base_url, shop):
    template = shop.template(body=BODY)
    name = f"Welcome {uuid.uuid4().hex[:6]}"
    driver = browser("desktop")
    owner_page(driver, base_url, shop, "#/sequences", "sequences")
    # the menu has sequences right after templates
    menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert menu[menu.index("templates") + 1] == "sequences", menu
    says(driver, "#sequences-list", "No sequence yet")
    click(driver, driver.find_element(By.ID, "sequences-new"))
    page_ready(driver, "sequences/new")

    fill(driver.find_element(By.ID, "sequence-name"), name)
    # the tenant's only phone channel is chosen; the trigger is by hand unless changed (its parameter shows then)
    assert driver.find_element(By.ID, "sequence-channel").get_attribute("value") == shop.sandbox["id"]
    assert driver.find_element(By.ID, "sequence-trigger").get_attribute("value") == "manual"
    choose(driver.find_element(By.ID, "sequence-trigger"), "lead_score")
    assert driver.find_element(By.ID, "sequence-trigger-score").is_displayed()
    assert not driver.find_element(By.ID, "sequence-trigger-stage").is_displayed()
    choose(driver.find_element(By.ID, "sequence-trigger"), "manual")
    assert not driver.find_element(By.ID, "sequence-trigger-score").is_displayed()

    # step 1: a message, at once, with the channel's approved template and its two variables
    [first] = rows(driver)
    assert in_row(first, ".seq-step-title").text == "Step 1" and "after the lead enters" in in_row(first, "label").text
    assert in_row(first, ".seq-up").get_attribute("disabled") is not None
    wait(driver).until(lambda d: templates_in(first) == [template["id"]])
    choose(in_row(first, ".seq-template"), template["id"])
    assert BODY in in_row(first, ".seq-template-body").text
    variables = first.find_elements(By.CSS_SELECTOR, ".seq-variable")
    assert len(variables) == 2
    assert "{{lead.name}}" in in_row(first, ".seq-lead-name-hint").text
    variables[0].send_keys("{{lead.name}}")
    variables[1].send_keys("Sokoni")
    fill(in_row(first, ".seq-delay"), "0")

    # step 2: a new step waits a day after the one before; made a move to Qualified at once
    click(driver, driver.find_element(By.ID, "sequence-add-step"))
    second = rows(driver)[1]
    assert in_row(second, ".seq-step-title").text == "Step 2" and "after step 1" in in_row(second, "label").text
    assert in_row(second, ".seq-delay").get_attribute("value") == "1" and in_row(second, ".seq-delay-unit").get_attribute("value") == "days"
    choose(in_row(second, ".seq-action"), "update_stage")
    assert not in_row(second, ".seq-template").is_displayed() and in_row(second, ".seq-stage").is_displayed()
    choose(in_row(second, ".seq-stage"), "qualified")
    fill(in_row(second, ".seq-delay"), "0")

    # step 3: a call two hours later, moved up above the move, then removed again
    click(driver, driver.find_element(By.ID, "sequence-add-step"))
    third = rows(driver)[2]
    choose(in_row(third, ".seq-action"), "make_call")
    fill(in_row(third, ".seq-purpose"), "Ask how the visit went")
    fill(in_row(third, ".seq-delay"), "2")
    choose(in_row(third, ".seq-delay-unit"), "hours")
    assert actions(driver) == ["send_message", "update_stage", "make_call"]
    assert in_row(third, ".seq-down").get_attribute("disabled") is not None
    click(driver, in_row(third, ".seq-up"))
    assert actions(driver) == ["send_message", "make_call", "update_stage"]
    assert [in_row(r, ".seq-step-title").text for r in rows(driver)] == ["Step 1", "Step 2", "Step 3"]
    assert in_row(rows(driver)[1], ".seq-purpose").get_attribute("value") == "Ask how the visit went"
    # (the move up and down keep each step's fields)
    click(driver, in_row(rows(driver)[0], ".seq-down"))
    assert actions(driver) == ["make_call", "send_message", "update_stage"]
    assert in_row(rows(driver)[1], ".seq-template").get_attribute("value") == template["id"]
    click(driver, in_row(rows(driver)[1], ".seq-up"))
    assert actions(driver) == ["send_message", "make_call", "update_stage"]
    click(driver, in_row(rows(driver)[1], ".seq-remove"))
    assert actions(driver) == ["send_message", "update_stage"]

    click(driver, driver.find_element(By.ID, "sequence-save"))
    page_ready(driver, "sequences/:id")
    says(driver, "#sequence-line", "created")
    sequence_id = sequence_id_on_page(driver)
    [stored] = shop.sequences()
    assert stored["id"].lower() == sequence_id
    assert stored["name"] == name and stored["status"] == "active" and stored["trigger"] == "manual"
    assert stored["channelId"] == shop.sandbox["id"]
    assert stored["steps"] == [
        {"delayMinutes": 0, "action": "send_message", "templateId": template["id"], "variables": ["{{lead.name}}", "Sokoni"]},
        {"delayMinutes": 0, "action": "update_stage", "stage": "qualified"},
    ], stored["steps"]

    # a reload shows it as saved: the fields filled in, the channel and the trigger fixed
    driver.refresh()
    page_ready(driver, "sequences/:id")
    assert driver.find_element(By.ID, "sequence-name").get_attribute("value") == name
    assert not driver.find_element(By.ID, "sequence-channel").is_enabled() and not driver.find_element(By.ID, "sequence-trigger").is_enabled()
    assert driver.find_element(By.ID, "sequence-status").get_attribute("data-status") == "active"
    assert actions(driver) == ["send_message", "update_stage"]
    first, second = rows(driver)
    wait(driver).until(lambda d: in_row(first, ".seq-template").get_attribute("value") == template["id"])
    assert [v.get_attribute("value") for v in first.find_elements(By.CSS_SELECTOR, ".seq-variable")] == ["{{lead.name}}", "Sokoni"]
    assert in_row(second, ".seq-stage").get_attribute("value") == "qualified"
    assert in_row(second, ".seq-delay").get_attribute("value") == "0"
    says(driver, "#enrollments-list", "No lead has entered this sequence yet")

    # a change of the steps is saved with PATCH: the move waits 3 hours now
    fill(in_row(second, ".seq-delay"), "180")
    choose(in_row(second, ".seq-delay-unit"), "minutes")
    click(driver, driver.find_element(By.ID, "sequence-save"))
    says(driver, "#sequence-line", "saved")
    assert shop.get_sequence(sequence_id)["steps"][1]["delayMinutes"] == 180
    driver.refresh()
    page_ready(driver, "sequences/:id")
    second = rows(driver)[1]
    assert in_row(second, ".seq-delay").get_attribute("value") == "3" and in_row(second, ".seq-delay-unit").get_attribute("value") == "hours"

    # the list shows it: trigger, channel, status, steps, counts; it opens its page
    go(driver, "#/sequences", "sequences")
    row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#sequences-list tr[data-id="{sequence_id}"]')))
    assert name in row.text and "By hand" in row.text and "Active" in row.text and shop.sandbox["name"] in row.text
    assert row.find_element(By.CSS_SELECTOR, ".sequences-steps").text == "2"
    assert row.find_element(By.CSS_SELECTOR, ".sequences-enrolled").text == "0"
    click(driver, row.find_element(By.CSS_SELECTOR, "a.sequences-name"))
    page_ready(driver, "sequences/:id")
    assert sequence_id_on_page(driver) == sequence_id


def test_the_trigger_its_parameter_and_a_meeting_step_are_sent_and_a_refused_create_says_why(browser, base_url, shop):
    shop.template(body=BODY)
    status, calendar = shop.call("POST", "/v1/calendar/agents", {
        "name": f"Amina {uuid.uuid4().hex[:4]}", "kind": "person", "timeZone": "Africa/Nairobi", "serviceDurations": {"viewing": 30}},
        key=str(uuid.uuid4()))
    assert status == 201, calendar
    driver = browser("desktop")
    owner_page(driver, base_url, shop, "#/sequences/new", "sequences/new")
    fill(driver.find_element(By.ID, "sequence-name"), "Hot leads")
    # a score over 100: the API refuses the sequence and says why; nothing is made
    choose(driver.find_element(By.ID, "sequence-trigger"), "lead_score")
    fill(driver.find_element(By.ID, "sequence-trigger-score"), "150")
    [first] = rows(driver)
    choose(in_row(first, ".seq-action"), "make_call")
    fill(in_row(first, ".seq-delay"), "2")
    choose(in_row(first, ".seq-delay-unit"), "days")
    # step 2: a meeting booked on the calendar, for its service
    click(driver, driver.find_element(By.ID, "sequence-add-step"))
    second = rows(driver)[1]
    choose(in_row(second, ".seq-action"), "schedule_meeting")
    assert in_row(second, ".seq-calendar").is_displayed() and not in_row(second, ".seq-purpose").is_displayed()
    choose(in_row(second, ".seq-calendar"), calendar["id"])
    fill(in_row(second, ".seq-service"), "viewing")
    fill(in_row(second, ".seq-delay"), "30")
    click(driver, driver.find_element(By.ID, "sequence-save"))
    says(driver, "#sequence-error", "triggerScore (0 to 100)")
    assert driver.find_element(By.ID, "sequence-error").get_attribute("data-code") == "invalid_sequence"
    assert shop.sequences() == []
    assert driver.execute_script("return location.hash") == "#/sequences/new"

    # by a stage instead: made, with the stage as its one parameter
    choose(driver.find_element(By.ID, "sequence-trigger"), "stage_change")
    choose(driver.find_element(By.ID, "sequence-trigger-stage"), "qualified")
    click(driver, driver.find_element(By.ID, "sequence-save"))
    page_ready(driver, "sequences/:id")
    [stored] = shop.sequences()
    assert stored["trigger"] == "stage_change" and stored["triggerStage"] == "qualified", stored
    assert "triggerScore" not in stored and "triggerInactiveDays" not in stored
    assert stored["steps"] == [
        {"delayMinutes": 2880, "action": "make_call"},
        {"delayMinutes": 1440 * 30, "action": "schedule_meeting", "calendarAgentId": calendar["id"], "serviceType": "viewing"},
    ], stored["steps"]
    assert text(driver, "#sequence-trigger-text") == "Enters Qualified"
    second = rows(driver)[1]
    assert in_row(second, ".seq-calendar").get_attribute("value") == calendar["id"]
    assert in_row(second, ".seq-service").get_attribute("value") == "viewing"
    assert in_row(second, ".seq-delay").get_attribute("value") == "30" and in_row(second, ".seq-delay-unit").get_attribute("value") == "days"
    go(driver, "#/sequences", "sequences")
    assert "Enters Qualified" in text(driver, f'#sequences-list tr[data-id="{stored["id"].lower()}"] .sequences-trigger')


# ---------- a lead enrolled from the page ----------

def test_a_lead_enrolled_from_the_page_gets_the_message_with_its_name_and_moves_to_the_stage(browser, base_url, shop):
    template = shop.template(body=BODY)
    sequence = shop.sequence(template)
    name = f"Aline {uuid.uuid4().hex[:4]}"
    lead = shop.lead(name)
    assert lead["stage"] == "new"
    driver = browser("desktop")
    owner_page(driver, base_url, shop, f"#/sequences/{sequence['id'].lower()}", "sequences/:id")
    says(driver, "#enrollments-list", "No lead has entered")

    # found by name, enrolled
    enrol_from_page(driver, name)
    says(driver, "#enrol-line", f"{name} is enrolled")
    assert driver.find_element(By.ID, "enrol-line").get_attribute("data-code") == "new"
    row = enrollment_row(driver, lead["id"])
    assert lead["phone"] in row.text and name in row.text
    assert row.find_element(By.CSS_SELECTOR, "a.enrollment-lead").get_attribute("href").endswith(f"#/leads/{lead['id']}")

    # the runner takes it through both steps (it ticks every second): the page follows until it completes
    wait(driver, 40).until(lambda d: enrollment_row(d, lead["id"]).get_attribute("data-status") == "completed", "the enrollment never completed")
    row = enrollment_row(driver, lead["id"])
    assert "Completed" in row.text
    click(driver, row.find_element(By.CSS_SELECTOR, "details.enrollment-log summary"))
    entries = row.find_elements(By.CSS_SELECTOR, ".enrollment-log-entry")
    logged = [(e.get_attribute("data-action"), e.get_attribute("data-step"), e.get_attribute("data-outcome")) for e in entries]
    assert logged == [("enrolled", "", "done"), ("send_message", "0", "done"), ("update_stage", "1", "done"), ("completed", "", "done")], logged
    assert entries[1].is_displayed() and "Message sent" in entries[1].text and "Step 1" in entries[1].text
    assert "Stage changed" in entries[2].text and "qualified" in entries[2].text
    assert driver.find_element(By.ID, "enrollments-list").get_attribute("data-live") == "false"
    wait(driver).until(lambda d: d.find_element(By.ID, "sequence-counts").get_attribute("data-enrolled") == "1")

    # what the lead got: the template with its own name, in the sandbox outbox; and it sits in Qualified now
    sent = [m for m in shop.outbox() if m["to"] == lead["phone"]]
    assert [m["body"] for m in sent] == [f"Habari {name}, karibu Sokoni."], sent
    assert shop.get_lead(lead["id"])["stage"] == "qualified"
    [enrollment] = shop.enrollments(sequence["id"])
    assert enrollment["status"] == "completed" and enrollment["leadId"] == lead["id"]

    # the link opens the lead
    click(driver, enrollment_row(driver, lead["id"]).find_element(By.CSS_SELECTOR, "a.enrollment-lead"))
    page_ready(driver, "leads/:id")
    assert driver.find_element(By.ID, "lead-stage-now").get_attribute("data-stage") == "qualified"

    # enrolled again: it is in already (nothing new)
    go(driver, f"#/sequences/{sequence['id'].lower()}", "sequences/:id")
    enrol_from_page(driver, lead["phone"])
    says(driver, "#enrol-line", "already in this sequence")
    assert driver.find_element(By.ID, "enrol-line").get_attribute("data-code") == "already"
    assert len(shop.enrollments(sequence["id"])) == 1


# ---------- refusals, pause ----------

def test_a_refused_save_says_the_apis_reason_and_pause_stops_enrolment(browser, base_url, shop):
    template = shop.template(body=BODY)
    sequence = shop.sequence(template)
    sequence_id = sequence["id"].lower()
    driver = browser("desktop")
    owner_page(driver, base_url, shop, f"#/sequences/{sequence_id}", "sequences/:id")

    # a delay over a year: the API says which step and why; the step is marked, nothing saved
    first = rows(driver)[0]
    fill(in_row(first, ".seq-delay"), "400")
    choose(in_row(first, ".seq-delay-unit"), "days")
    click(driver, driver.find_element(By.ID, "sequence-save"))
    error = says(driver, "#sequence-error", "steps[0].delayMinutes is 0 to 525600")
    assert driver.find_element(By.ID, "sequence-error").get_attribute("data-code") == "invalid_sequence", error
    assert "seq-step-bad" in rows(driver)[0].get_attribute("class")
    assert shop.get_sequence(sequence_id)["steps"][0]["delayMinutes"] == 0
    # every step removed: the API wants one at least
    for _ in range(2):
        click(driver, in_row(rows(driver)[0], ".seq-remove"))
    assert driver.find_element(By.ID, "sequence-no-steps").is_displayed()
    click(driver, driver.find_element(By.ID, "sequence-save"))
    says(driver, "#sequence-error", "A sequence has 1 to 20 steps.")
    assert len(shop.get_sequence(sequence_id)["steps"]) == 2

    # a lead who opted out is refused, with the reason
    quiet = shop.lead(f"Quiet {uuid.uuid4().hex[:4]}", optIn=False)
    enrol_from_page(driver, quiet["name"])
    says(driver, "#enrol-line", "opted out")
    assert driver.find_element(By.ID, "enrol-line").get_attribute("data-kind") == "error"
    assert driver.find_element(By.ID, "enrol-line").get_attribute("data-code") == "opted_out"

    # paused: the page says so, the API holds it, and enrolling is refused with the reason
    toggle = driver.find_element(By.ID, "sequence-toggle")
    assert toggle.text == "Pause"
    click(driver, toggle)
    wait(driver).until(lambda d: d.find_element(By.ID, "sequence-status").get_attribute("data-status") == "paused")
    says(driver, "#sequence-line", "paused")
    assert "Paused" in text(driver, "#sequence-status")
    assert shop.get_sequence(sequence_id)["status"] == "paused"
    assert driver.find_element(By.ID, "sequence-toggle").text == "Activate"
    lead = shop.lead()
    enrol_from_page(driver, lead["name"])
    says(driver, "#enrol-line", "paused")
    assert driver.find_element(By.ID, "enrol-line").get_attribute("data-code") == "sequence_paused"
    assert shop.enrollments(sequence_id) == []
    go(driver, "#/sequences", "sequences")
    assert "Paused" in text(driver, f'#sequences-list tr[data-id="{sequence_id}"]')

    # active again: the lead gets in
    go(driver, f"#/sequences/{sequence_id}", "sequences/:id")
    click(driver, driver.find_element(By.ID, "sequence-toggle"))
    wait(driver).until(lambda d: d.find_element(By.ID, "sequence-status").get_attribute("data-status") == "active")
    assert shop.get_sequence(sequence_id)["status"] == "active"
    enrol_from_page(driver, lead["name"])
    says(driver, "#enrol-line", "is enrolled")
    enrollment_row(driver, lead["id"])


# ---------- who sees the enrolled leads ----------

def test_the_enrolled_leads_are_for_the_tenants_admin_not_for_data_ops_or_read_only_staff(browser, base_url, api, shop):
    template = shop.template(body=BODY)
    sequence = shop.sequence(template)
    sequence_id = sequence["id"].lower()
    lead = shop.lead(f"Grace {uuid.uuid4().hex[:4]}")
    status, answer = shop.call("POST", f"/v1/sequences/{sequence_id}/enrollments", {"leadId": lead["id"]})
    assert status == 201, answer
    route = f"#/sequences/{sequence_id}"

    # the tenant's admin: the enrolled lead with its number
    driver = browser("desktop")
    owner_page(driver, base_url, shop, route, "sequences/:id")
    enrollment_row(driver, lead["id"])
    assert page_holds(driver, lead["phone"])
    assert driver.find_elements(By.ID, "enrol-form") and driver.find_elements(By.ID, "sequence-save")

    for email in (DATAOPS, READONLY):
        click(driver, driver.find_element(By.ID, "signout"))
        wait(driver).until(EC.visibility_of_element_located((By.ID, "signin-form")))
        staff_page(driver, base_url, api, email, shop, route, "sequences/:id")
        # the sequence and its steps, never the leads in it
        assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == sequence["name"]
        assert actions(driver) == ["send_message", "update_stage"]
        assert not driver.find_elements(By.ID, "enrollments-list")
        time.sleep(0.5)  # (nothing arrives late)
        assert not page_holds(driver, lead["phone"]), f"{email} sees an enrolled lead's number"
        menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
        assert "sequences" in menu, menu
        if email == DATAOPS:
            # data_ops manage sequences: they edit and enrol, without seeing who is in
            assert driver.find_elements(By.ID, "sequence-save") and driver.find_elements(By.ID, "enrol-form")
            go(driver, "#/sequences/new", "sequences/new")
        else:
            assert driver.find_elements(By.CSS_SELECTOR, "#main [data-write]") == []
            assert not driver.find_elements(By.ID, "enrol-form") and not driver.find_elements(By.ID, "sequence-add-step")
            assert not driver.find_element(By.ID, "sequence-name").is_enabled()
            assert all(not e.is_enabled() for e in driver.find_elements(By.CSS_SELECTOR, "#sequence-steps select, #sequence-steps input"))
            go(driver, "#/sequences", "sequences")
            wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#sequences-list tr[data-id="{sequence_id}"]'))
            assert not driver.find_elements(By.ID, "sequences-new") and driver.find_elements(By.CSS_SELECTOR, "#main [data-write]") == []
            go(driver, "#/sequences/new", "forbidden")
        # the API agrees whatever a page shows
        token = api.login(email)
        status, _ = api.call("GET", f"/v1/sequences/{sequence_id}/enrollments", token, headers={"X-Tenant-ID": shop.id})
        assert status == 403, f"{email} GET enrollments: {status}"
        status, _ = api.call("GET", f"/v1/sequences/{sequence_id}", token, headers={"X-Tenant-ID": shop.id})
        assert status == 200
