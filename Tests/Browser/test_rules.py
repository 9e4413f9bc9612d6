"""The pipeline's rules on the pipeline page (views/pipeline-rules.js) in a real Chromium, against agent-core through
the gateway; each test in a tenant of its own (crm_tenant.py).

A manager writes rules in the editor (add, remove, reorder; a score, days or an event as the trigger needs; the stages
a rule moves leads out of; the stage it moves them to; on or off) and the API and the database then hold exactly
those, in that order, which the page says in words. Rules the API refuses (a threshold out of range, no name, a stage
the pipeline no longer has) are said in its words and nothing changes. A rule moves a lead when its event arrives, and
the lead's timeline marks the move with the rule's name. An agent and read-only staff see the rules, not the editor."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from calendar_tenant import sign_in_with
from console import click, go, page_ready, wait
from crm_tenant import CRM, unique

READONLY = "readonly@sokoni.local"
SEEDS = [
    {"name": "Booked", "trigger": "event", "event": "appointment_booked", "fromStages": [], "toStage": "booked", "enabled": True},
    {"name": "Hot", "trigger": "score_at_least", "threshold": 45, "fromStages": ["new"], "toStage": "qualified", "enabled": True},
]


def seeded(api):
    crm = CRM(api)
    status, answer = crm.call("PUT", "/v1/pipeline/rules", {"rules": SEEDS})
    assert status == 200, answer
    return crm


def rules_ready(driver):
    return wait(driver).until(lambda d: d.find_element(By.ID, "rules-box").get_attribute("data-ready") == "true")


def pipeline(driver, base_url, email, password):
    sign_in_with(driver, base_url, email, password, "#/pipeline", "pipeline")
    rules_ready(driver)


def sentences(driver):
    return [(li.find_element(By.CSS_SELECTOR, ".rule-list-name").text, li.find_element(By.CSS_SELECTOR, ".rule-list-text").text,
             li.get_attribute("data-enabled")) for li in driver.find_elements(By.CSS_SELECTOR, "#rules-list li")]


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#rules-rows .rule-row")


def fill_row(driver, row, name, trigger, to, threshold=None, event=None, from_stages=(), enabled=True):
    box = row.find_element(By.CSS_SELECTOR, ".rule-name")
    box.clear()
    box.send_keys(name)
    Select(row.find_element(By.CSS_SELECTOR, ".rule-trigger")).select_by_value(trigger)
    if threshold is not None:
        field = row.find_element(By.CSS_SELECTOR, ".rule-threshold")
        field.clear()
        field.send_keys(str(threshold))
    if event:
        Select(row.find_element(By.CSS_SELECTOR, ".rule-event")).select_by_value(event)
    for check in row.find_elements(By.CSS_SELECTOR, "input.rule-from"):
        if check.is_selected() != (check.get_attribute("value") in from_stages):
            click(driver, check)
    Select(row.find_element(By.CSS_SELECTOR, ".rule-to")).select_by_value(to)
    check = row.find_element(By.CSS_SELECTOR, "input.rule-enabled")
    if check.is_selected() != enabled:
        click(driver, check)


def save(driver):
    click(driver, driver.find_element(By.ID, "rules-save"))


def error_of(driver):
    return wait(driver).until(lambda d: d.find_element(By.ID, "rules-error").text or None)


def without_ids(rules):
    return [{k: v for k, v in r.items() if k != "id"} for r in rules]


def test_a_manager_writes_rules_in_the_editor_and_the_api_keeps_exactly_those_in_order(browser, base_url, api, sql):
    crm = CRM(api)
    driver = browser("desktop")
    pipeline(driver, base_url, crm.email, crm.password)
    assert "No rule" in driver.find_element(By.ID, "rules-none").text
    for _ in range(4):
        click(driver, driver.find_element(By.ID, "rules-add"))
    booked, hot, quiet, scrap = rows(driver)
    fill_row(driver, booked, "Booked", "event", "booked", event="appointment_booked")
    fill_row(driver, hot, "Hot", "score_at_least", "qualified", threshold=45, from_stages=("new", "contacted"))
    fill_row(driver, quiet, "Gone quiet", "inactive_days", "lost", threshold=30, from_stages=("qualified",), enabled=False)
    fill_row(driver, scrap, "Scrap", "score_below", "lost", threshold=5)
    # the trigger says which input it needs
    assert not booked.find_element(By.CSS_SELECTOR, ".rule-threshold").is_displayed() and booked.find_element(By.CSS_SELECTOR, ".rule-event").is_displayed()
    assert not hot.find_element(By.CSS_SELECTOR, ".rule-event").is_displayed()
    assert "Score (0 to 100)" in hot.text and "Days (1 to 365)" in quiet.text
    # removed, and reordered: "Gone quiet" before "Hot"
    click(driver, scrap.find_element(By.CSS_SELECTOR, ".rule-remove"))
    click(driver, quiet.find_element(By.CSS_SELECTOR, ".rule-up"))
    assert [r.find_element(By.CSS_SELECTOR, ".rule-name").get_attribute("value") for r in rows(driver)] == ["Booked", "Gone quiet", "Hot"]
    save(driver)
    wait(driver).until(lambda d: "Rules saved (3)" in d.find_element(By.ID, "rules-status").text)
    assert not driver.find_element(By.ID, "rules-error").text

    # the API holds exactly those, in that order
    expected = [
        {"name": "Booked", "trigger": "event", "event": "appointment_booked", "fromStages": [], "toStage": "booked", "enabled": True},
        {"name": "Gone quiet", "trigger": "inactive_days", "threshold": 30, "fromStages": ["qualified"], "toStage": "lost", "enabled": False},
        {"name": "Hot", "trigger": "score_at_least", "threshold": 45, "fromStages": ["new", "contacted"], "toStage": "qualified", "enabled": True},
    ]
    saved = crm.rules()
    assert without_ids(saved) == expected, saved
    assert sql(f"SELECT name, trigger, coalesce(threshold::text, '-'), coalesce(event, '-'), array_to_string(from_stages, ','), to_stage, enabled "
               f"FROM agent.stage_rules WHERE tenant_id = '{crm.id}' ORDER BY position") == [
        ["Booked", "event", "-", "appointment_booked", "", "booked", "t"],
        ["Gone quiet", "inactive_days", "30", "-", "qualified", "lost", "f"],
        ["Hot", "score_at_least", "45", "-", "new,contacted", "qualified", "t"]]
    # the page says them in words, in order, and the editor holds what was saved
    assert sentences(driver) == [
        ("Booked", "When an appointment is booked, leads in any open stage move to Booked.", "true"),
        ("Gone quiet", "After 30 days without contact, leads in Qualified move to Lost.", "false"),
        ("Hot", "When the score reaches 45, leads in New or Contacted move to Qualified.", "true")]
    assert "Off" in driver.find_element(By.CSS_SELECTOR, f'#rules-list li[data-id="{saved[1]["id"]}"]').text
    assert [r.get_attribute("data-id") for r in rows(driver)] == [r["id"] for r in saved]
    # again from the start: the page reads them back
    go(driver, "#/leads", "leads")
    go(driver, "#/pipeline", "pipeline")
    rules_ready(driver)
    assert [s[0] for s in sentences(driver)] == ["Booked", "Gone quiet", "Hot"]
    quiet = rows(driver)[1]
    assert quiet.find_element(By.CSS_SELECTOR, ".rule-threshold").get_attribute("value") == "30"
    assert not quiet.find_element(By.CSS_SELECTOR, "input.rule-enabled").is_selected()
    assert [c.get_attribute("value") for c in quiet.find_elements(By.CSS_SELECTOR, "input.rule-from") if c.is_selected()] == ["qualified"]


def test_rules_the_api_refuses_are_said_in_its_words_and_nothing_changes(browser, base_url, api):
    crm = seeded(api)
    before = crm.rules()
    driver = browser("desktop")
    pipeline(driver, base_url, crm.email, crm.password)
    hot = rows(driver)[1]
    # a score above 100: the API's own sentence, naming the rule
    threshold = hot.find_element(By.CSS_SELECTOR, ".rule-threshold")
    threshold.clear()
    threshold.send_keys("101")
    save(driver)
    status, refusal = crm.call("PUT", "/v1/pipeline/rules", {"rules": [SEEDS[0], {**SEEDS[1], "threshold": 101}]})
    assert status == 422 and refusal["error"]["code"] == "invalid_rules", refusal
    assert error_of(driver) == refusal["error"]["message"] and "Hot" in refusal["error"]["message"]
    assert driver.find_element(By.ID, "rules-error").get_attribute("data-code") == "invalid_rules"
    assert crm.rules() == before
    # no name
    threshold.clear()
    threshold.send_keys("60")
    hot.find_element(By.CSS_SELECTOR, ".rule-name").clear()
    save(driver)
    wait(driver).until(lambda d: d.find_element(By.ID, "rules-error").get_attribute("data-code") == "invalid_rules.name")
    assert error_of(driver) == "Every rule needs a name of 1 to 80 characters."
    assert crm.rules() == before
    hot.find_element(By.CSS_SELECTOR, ".rule-name").send_keys("Hot")

    # a stage the pipeline lost meanwhile (another person saved the stages without "contacted")
    click(driver, driver.find_element(By.ID, "rules-add"))
    fill_row(driver, rows(driver)[-1], "Called", "event", "contacted", event="message_received")
    stages = [{"key": "new", "name": "New", "kind": "open"}, {"key": "qualified", "name": "Qualified", "kind": "open"},
              {"key": "booked", "name": "Booked", "kind": "open"}, {"key": "won", "name": "Won", "kind": "won"},
              {"key": "lost", "name": "Lost", "kind": "lost"}]
    status, answer = crm.call("PUT", "/v1/pipeline/stages", {"stages": stages})
    assert status == 200, answer
    save(driver)
    wait(driver).until(lambda d: d.find_element(By.ID, "rules-error").get_attribute("data-code") == "unknown_stage")
    assert "does not have" in error_of(driver) and "reload the page" in error_of(driver)
    assert crm.rules() == before
    status, refusal = crm.call("PUT", "/v1/pipeline/rules", {"rules": [*SEEDS, {
        "name": "Called", "trigger": "event", "event": "message_received", "fromStages": [], "toStage": "contacted", "enabled": True}]})
    assert status == 422 and refusal["error"]["code"] == "unknown_stage", refusal
    # after a reload the stage is not offered, and the rest saves
    driver.refresh()
    page_ready(driver, "pipeline")
    rules_ready(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, '#rules-rows .rule-to option[value="contacted"]')
    save(driver)
    wait(driver).until(lambda d: "Rules saved (2)" in d.find_element(By.ID, "rules-status").text)
    assert without_ids(crm.rules()) == without_ids(before)


def test_a_rule_moves_a_lead_and_the_leads_timeline_names_the_rule(browser, base_url, api):
    crm = seeded(api)
    rule = crm.rules()[0]
    lead = crm.lead(name=unique("Zawadi"))
    crm.events({"kind": "appointment_booked", "phone": lead["phone"], "title": "Viewing"})
    assert crm.get(lead["id"])["stage"] == "booked"
    status, feed = crm.call("GET", "/v1/pipeline/moves")
    assert status == 200
    move = next(m for m in feed["items"] if m["leadId"] == lead["id"])
    # (the rules answer their ids in upper case, the moves and the timeline in lower case)
    assert (move["from"], move["to"], move["automatic"], move["rule"]) == ("new", "booked", True, rule["id"].lower())
    driver = browser("desktop")
    pipeline(driver, base_url, crm.email, crm.password)
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'.pl-column[data-stage="booked"] .pl-card[data-id="{lead["id"]}"]'))
    go(driver, f"#/leads/{lead['id']}", "leads/:id")
    event = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#lead-timeline li[data-kind="stage_changed"]'))[0]
    assert event.find_element(By.CSS_SELECTOR, ".lead-event-summary").text == "Moved from new to booked: rule “Booked”: event appointment_booked."
    badge = event.find_element(By.CSS_SELECTOR, ".lead-event-rule")
    assert badge.text == "Rule: Booked" and badge.get_attribute("data-rule") == rule["id"].lower()
    assert event.find_element(By.CSS_SELECTOR, ".lead-event-actor").text == "a pipeline rule"
    # a person's move carries no such mark
    status, _ = crm.call("PUT", f"/v1/leads/{lead['id']}/stage", {"stage": "won", "reason": "signed"})
    assert status == 200
    driver.refresh()
    page_ready(driver, "leads/:id")
    events = wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#lead-timeline li[data-kind="stage_changed"]')) == 2
                                and d.find_elements(By.CSS_SELECTOR, '#lead-timeline li[data-kind="stage_changed"]'))
    assert not events[0].find_elements(By.CSS_SELECTOR, ".lead-event-rule") and events[1].find_elements(By.CSS_SELECTOR, ".lead-event-rule")


def test_an_agent_and_read_only_staff_see_the_rules_but_not_the_editor(browser, base_url, api):
    crm = seeded(api)
    expected = [("Booked", "When an appointment is booked, leads in any open stage move to Booked.", "true"),
                ("Hot", "When the score reaches 45, leads in New move to Qualified.", "true")]
    driver = browser("phone")
    pipeline(driver, base_url, crm.agent_email, crm.agent_password)
    assert sentences(driver) == expected
    assert not driver.find_elements(By.ID, "rules-form") and not driver.find_elements(By.ID, "rules-save")
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    status, _ = crm.call("PUT", "/v1/pipeline/rules", {"rules": []}, as_agent=True)
    assert status == 403
    staff = browser("desktop")
    sign_in_with(staff, base_url, READONLY, api.user(READONLY)["password"], "#/pipeline", "tenant")
    wait(staff).until(lambda d: d.find_element(By.ID, "tenant-id")).send_keys(crm.id)
    staff.find_element(By.ID, "tenant-use").click()
    page_ready(staff, "pipeline")
    rules_ready(staff)
    assert sentences(staff) == expected
    assert not staff.find_elements(By.ID, "rules-form") and not staff.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    status, _ = api.call("PUT", "/v1/pipeline/rules", api.login(READONLY), body={"rules": []}, headers={"X-Tenant-ID": crm.id})
    assert status == 403
    assert without_ids(crm.rules()) == SEEDS
