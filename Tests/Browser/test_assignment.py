"""Who receives new leads (views/pipeline-assignment.js, on the pipeline page) in a real Chromium, against agent-core
through the gateway; each test in a tenant of its own (crm_tenant.py).

A manager builds the list in the editor (people picked from the tenant's users, added, removed and reordered; on duty
or not; languages, tags and regions typed comma-separated) and the API and the database then hold exactly that, in
that order, which the page says person by person; new leads made afterwards (through the API and in the console's
"New lead" form) go to the one member their region and language allow. A language code the API refuses is said in
its words and nothing changes. An agent sees the list without the editor; another tenant sees none of it."""
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from calendar_tenant import sign_in_with
from console import click, go, wait
from crm_tenant import CRM, unique, unique_phone
from test_pipeline import new_lead_in_the_form


def ready(driver):
    return wait(driver).until(lambda d: d.find_element(By.ID, "assignment-box").get_attribute("data-ready") == "true")


def pipeline(driver, base_url, email, password):
    sign_in_with(driver, base_url, email, password, "#/pipeline", "pipeline")
    ready(driver)


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#assignment-rows .assign-row")


def row_of(driver, user):
    return driver.find_element(By.CSS_SELECTOR, f'#assignment-rows .assign-row[data-user-id="{user["id"].lower()}"]')


def add(driver, user):
    Select(driver.find_element(By.ID, "assignment-person")).select_by_value(user["id"].lower())
    click(driver, driver.find_element(By.ID, "assignment-add"))
    return row_of(driver, user)


def fill(row, languages=None, tags=None, regions=None):
    for selector, text in ((".assign-languages", languages), (".assign-tags", tags), (".assign-regions", regions)):
        if text is not None:
            box = row.find_element(By.CSS_SELECTOR, selector)
            box.clear()
            box.send_keys(text)


def save(driver):
    click(driver, driver.find_element(By.ID, "assignment-save"))


def listed(driver):
    """The read-only list: (user id, on duty, the line's text) per member, in turn."""
    return [(li.get_attribute("data-user-id"), li.get_attribute("data-on-duty"), li.text)
            for li in driver.find_elements(By.CSS_SELECTOR, "#assignment-list li")]


def held(crm, **kwargs):
    status, answer = crm.call("GET", "/v1/assignment", **kwargs)
    assert status == 200, answer
    return answer["members"]


def lower_ids(members):
    return [{**m, "userId": m["userId"].lower()} for m in members]


def in_db(sql, crm):
    return sql("SELECT user_id::text, on_duty, array_to_string(languages, ','), array_to_string(tags, ','), "
               f"array_to_string(regions, ',') FROM agent.assignment_members WHERE tenant_id = '{crm.id}' ORDER BY position")


def test_a_manager_builds_the_list_the_api_holds_exactly_that_and_new_leads_follow_it(browser, base_url, api, sql):
    crm = CRM(api)
    third = crm.user(f"third-{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex}", unique("Baraka"), ["agent"])
    fourth = crm.user(f"fourth-{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex}", unique("Neema"), ["agent"])
    driver = browser("desktop")
    pipeline(driver, base_url, crm.email, crm.password)
    assert "Nobody is on the list" in driver.find_element(By.ID, "assignment-none").text
    # the picker offers the tenant's people
    offered = {o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#assignment-person option")}
    assert offered == {u["id"].lower() for u in (crm.admin, crm.agent, third, fourth)}, offered
    agent = add(driver, crm.agent)
    admin = add(driver, crm.admin)
    off = add(driver, third)
    gone = add(driver, fourth)
    # who is on the list is not offered again
    assert crm.agent["id"].lower() not in {o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#assignment-person option")}
    assert "(you)" in admin.find_element(By.CSS_SELECTOR, ".assign-row-name").text
    assert crm.agent_name in agent.find_element(By.CSS_SELECTOR, ".assign-row-name").text
    fill(admin, languages="SW, en", regions="Nairobi")
    fill(agent, regions="Mombasa, Kilifi ,")
    fill(off, tags="vip, land")
    click(driver, off.find_element(By.CSS_SELECTOR, "input.assign-duty"))
    # removed, and reordered: the admin first
    click(driver, gone.find_element(By.CSS_SELECTOR, ".assign-remove"))
    click(driver, admin.find_element(By.CSS_SELECTOR, ".assign-up"))
    assert [r.get_attribute("data-user-id") for r in rows(driver)] == [crm.admin["id"].lower(), crm.agent["id"].lower(), third["id"].lower()]
    save(driver)
    wait(driver).until(lambda d: "Saved (3 on the list)" in d.find_element(By.ID, "assignment-status").text)
    assert not driver.find_element(By.ID, "assignment-error").text

    # the API and the database hold exactly that, in that order
    expected = [
        {"userId": crm.admin["id"].lower(), "onDuty": True, "languages": ["sw", "en"], "tags": [], "regions": ["Nairobi"]},
        {"userId": crm.agent["id"].lower(), "onDuty": True, "languages": [], "tags": [], "regions": ["Mombasa", "Kilifi"]},
        {"userId": third["id"].lower(), "onDuty": False, "languages": [], "tags": ["vip", "land"], "regions": []},
    ]
    assert lower_ids(held(crm)) == expected
    assert in_db(sql, crm) == [
        [crm.admin["id"].lower(), "t", "sw,en", "", "Nairobi"],
        [crm.agent["id"].lower(), "t", "", "", "Mombasa,Kilifi"],
        [third["id"].lower(), "f", "", "vip,land", ""]]
    # the page says it person by person, and the editor holds what was saved
    shown = listed(driver)
    assert [(i, d) for i, d, _ in shown] == [(m["userId"], "true" if m["onDuty"] else "false") for m in expected]
    assert "(you)" in shown[0][2] and "Languages: sw, en" in shown[0][2] and "Regions: Nairobi" in shown[0][2] and "Tags: any" in shown[0][2]
    assert crm.agent_name in shown[1][2] and "Regions: Mombasa, Kilifi" in shown[1][2] and "On duty" in shown[1][2]
    assert third["name"] in shown[2][2] and "Off duty" in shown[2][2] and "Tags: vip, land" in shown[2][2]
    go(driver, "#/leads", "leads")
    go(driver, "#/pipeline", "pipeline")
    ready(driver)
    assert [r.get_attribute("data-user-id") for r in rows(driver)] == [m["userId"] for m in expected]
    assert row_of(driver, crm.admin).find_element(By.CSS_SELECTOR, ".assign-languages").get_attribute("value") == "sw, en"
    assert row_of(driver, crm.agent).find_element(By.CSS_SELECTOR, ".assign-regions").get_attribute("value") == "Mombasa, Kilifi"
    assert not row_of(driver, third).find_element(By.CSS_SELECTOR, "input.assign-duty").is_selected()

    # new leads follow it: each has one member its region and language allow (the third is off duty)
    city = crm.lead(name=unique("Jiji"), region="nairobi", locale="sw-KE")
    assert city["assigneeId"].lower() == crm.admin["id"].lower()
    french = crm.lead(name=unique("Paris"), region="Nairobi", locale="fr")
    assert "assigneeId" not in french
    land = crm.lead(name=unique("Shamba"), region="Kisumu", locale="sw", tags=["vip"])
    assert "assigneeId" not in land
    coast = new_lead_in_the_form(driver, unique_phone(), unique("Pwani"), "KILIFI")
    wait(driver).until(lambda d: d.find_element(By.ID, "lead-assignee").text == crm.agent_name)
    assert crm.get(coast)["assigneeId"].lower() == crm.agent["id"].lower()
    # the assignment itself is untouched by them
    assert lower_ids(held(crm)) == expected


def test_a_language_code_the_api_refuses_is_said_in_its_words_and_nothing_changes(browser, base_url, api, sql):
    crm = CRM(api)
    seed = [{"userId": crm.admin["id"], "onDuty": True, "languages": ["sw"], "tags": [], "regions": ["Nairobi"]},
            {"userId": crm.agent["id"], "onDuty": True, "languages": [], "tags": [], "regions": []}]
    status, answer = crm.call("PUT", "/v1/assignment", {"members": seed})
    assert status == 200, answer
    before, rows_before = held(crm), in_db(sql, crm)
    driver = browser("desktop")
    pipeline(driver, base_url, crm.email, crm.password)
    fill(row_of(driver, crm.agent), languages="english", regions="Mombasa")
    click(driver, row_of(driver, crm.agent).find_element(By.CSS_SELECTOR, ".assign-up"))
    save(driver)
    status, refusal = crm.call("PUT", "/v1/assignment", {"members": [{**seed[1], "languages": ["english"], "regions": ["Mombasa"]}, seed[0]]})
    assert status == 422 and refusal["error"]["code"] == "invalid_members", refusal
    error = wait(driver).until(lambda d: d.find_element(By.ID, "assignment-error").text or None)
    assert error == refusal["error"]["message"] and "language codes" in error
    assert driver.find_element(By.ID, "assignment-error").get_attribute("data-code") == "invalid_members"
    assert driver.find_element(By.ID, "assignment-error").get_attribute("role") == "alert"
    assert not driver.find_element(By.ID, "assignment-status").text
    assert held(crm) == before and in_db(sql, crm) == rows_before
    # the list on the page still says what is held
    assert [i for i, _, _ in listed(driver)] == [crm.admin["id"].lower(), crm.agent["id"].lower()]
    # a region longer than a region may be: the console's sentence for the API's code
    fill(row_of(driver, crm.agent), languages="", regions="")
    driver.execute_script("arguments[0].value = arguments[1]", row_of(driver, crm.agent).find_element(By.CSS_SELECTOR, ".assign-regions"), "x" * 101)
    save(driver)
    wait(driver).until(lambda d: d.find_element(By.ID, "assignment-error").get_attribute("data-code") == "invalid_region")
    assert driver.find_element(By.ID, "assignment-error").text == "The region is 1 to 100 characters."
    assert held(crm) == before
    # corrected, it saves
    fill(row_of(driver, crm.agent), languages="en", regions="Mombasa")
    save(driver)
    wait(driver).until(lambda d: "Saved (2 on the list)" in d.find_element(By.ID, "assignment-status").text)
    assert lower_ids(held(crm)) == [
        {"userId": crm.agent["id"].lower(), "onDuty": True, "languages": ["en"], "tags": [], "regions": ["Mombasa"]},
        {**seed[0], "userId": crm.admin["id"].lower()}]


def test_an_agent_sees_the_list_read_only(browser, base_url, api):
    crm = CRM(api)
    seed = [{"userId": crm.admin["id"], "onDuty": True, "languages": ["sw"], "tags": ["vip"], "regions": ["Nairobi"]},
            {"userId": crm.agent["id"], "onDuty": False, "languages": [], "tags": [], "regions": ["Mombasa"]}]
    status, answer = crm.call("PUT", "/v1/assignment", {"members": seed})
    assert status == 200, answer
    driver = browser("phone")
    pipeline(driver, base_url, crm.agent_email, crm.agent_password)
    shown = listed(driver)
    assert [(i, d) for i, d, _ in shown] == [(crm.admin["id"].lower(), "true"), (crm.agent["id"].lower(), "false")]
    # the agent cannot read the tenant's people: others by id, themselves by name
    assert crm.admin["id"].lower() in shown[0][2] and "Tags: vip" in shown[0][2]
    assert f"{crm.agent_name} (you)" in shown[1][2] and "Off duty" in shown[1][2] and "Regions: Mombasa" in shown[1][2]
    assert "Only managers" in driver.find_element(By.ID, "assignment-readonly").text
    box = driver.find_element(By.ID, "assignment-box")
    assert not box.find_elements(By.CSS_SELECTOR, "form, input, select, button, [data-write]")
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    status, _ = crm.call("PUT", "/v1/assignment", {"members": []}, as_agent=True)
    assert status == 403
    assert lower_ids(held(crm, as_agent=True)) == [{**m, "userId": m["userId"].lower()} for m in seed]


def test_another_tenant_sees_none_of_it(browser, base_url, api):
    crm = CRM(api)
    seed = [{"userId": crm.admin["id"], "onDuty": True, "languages": [], "tags": [], "regions": ["Nairobi"]},
            {"userId": crm.agent["id"], "onDuty": True, "languages": [], "tags": [], "regions": []}]
    status, answer = crm.call("PUT", "/v1/assignment", {"members": seed})
    assert status == 200, answer
    other = CRM(api)
    assert held(other) == []
    driver = browser("desktop")
    pipeline(driver, base_url, other.email, other.password)
    assert driver.find_element(By.ID, "assignment-none").is_displayed()
    assert not driver.find_elements(By.CSS_SELECTOR, "#assignment-list li, #assignment-rows .assign-row")
    # its picker offers its own people only
    offered = {o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#assignment-person option")}
    assert offered == {other.admin["id"].lower(), other.agent["id"].lower()}, offered
    page = driver.find_element(By.ID, "main").get_attribute("outerHTML").lower()
    for user in (crm.admin, crm.agent):
        assert user["id"].lower() not in page
    assert crm.agent_name not in driver.find_element(By.ID, "main").text
    # its own list is its own: the first tenant's is untouched, and its leads go to its own people
    add(driver, other.agent)
    save(driver)
    wait(driver).until(lambda d: "Saved (1 on the list)" in d.find_element(By.ID, "assignment-status").text)
    assert [m["userId"].lower() for m in held(other)] == [other.agent["id"].lower()]
    assert lower_ids(held(crm)) == [{**m, "userId": m["userId"].lower()} for m in seed]
    lead = other.lead(name=unique("Amani"), region="Nairobi")
    assert lead["assigneeId"].lower() == other.agent["id"].lower()
