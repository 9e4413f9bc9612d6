"""The agent pages of the admin console in a real Chromium: an agent made in the page is the API's, with what the
form said, and a second one of the same name shows the API's refusal; the CRM tools (lookup_lead, update_lead,
handoff_to_assignee) are ticked in the form and saved; prompt versions 1.0.0 (active as the first)
and 1.1.0 are added in the page, 1.1.0 activated and then rolled back to 1.0.0, the API agreeing each time, and the
side-by-side diff shows the removed lines on the old side and the added ones on the new; an FAQ added in the page is
listed with no use, and the database says the same; read-only staff see these pages with no control that writes,
and the pages fit a phone. Each test makes its own agents and FAQs with unique names (the demo database is shared)."""
import re
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from console import OWNER, READONLY, click, go, open_dialog, page_ready, sign_in_as_readonly, submit_dialog, tenant_of, wait
from console import sign_in as console_sign_in

DUPLICATE = "Another agent of this tenant already has this name."


def sign_in(driver, base_url, api, email=OWNER, route="#/agents", page=None):
    console_sign_in(driver, base_url, api, email=email, route=route, page=page)


@pytest.fixture(autouse=True)
def no_agent_left_answering(api):
    """The demo tenant answers customers automatically once it has an active agent, which the messaging and web-chat
    tests do not expect: whatever agents a test here made are archived after it, pass or fail."""
    yield
    token = api.login(OWNER)
    status, page = api.call("GET", "/v1/agents?limit=200", token)
    assert status == 200, page
    for agent in page["items"]:
        if agent["status"] == "active":
            status, body = api.call("PATCH", f"/v1/agents/{agent['id']}", token, body={"status": "archived"})
            assert status == 200, body


# ---------- helpers ----------

def no_dialog(driver):
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))


def type_into(driver, element_id, text):
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)
    return element


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def owner(api):
    return api.login(OWNER)


def new_agent(api, name=None, **extra):
    status, agent = api.call("POST", "/v1/agents", owner(api), body={"name": name or unique("Test agent"), "kind": "support", **extra})
    assert status == 201, agent
    return agent


def agents_named(api, name):
    status, page = api.call("GET", "/v1/agents?limit=200", owner(api))
    assert status == 200, page
    found = [a for a in page["items"] if a["name"].lower() == name.lower()]
    while page.get("nextCursor"):
        status, page = api.call("GET", f"/v1/agents?limit=200&cursor={page['nextCursor']}", owner(api))
        assert status == 200, page
        found += [a for a in page["items"] if a["name"].lower() == name.lower()]
    return found


def prompts_of(api, agent_id):
    status, page = api.call("GET", f"/v1/agents/{agent_id}/prompts", owner(api))
    assert status == 200, page
    return page["items"]


def active_version(api, agent_id, channel_type="chat"):
    active = [p["version"] for p in prompts_of(api, agent_id) if p["channelType"] == channel_type and p["active"]]
    assert len(active) <= 1, active
    return active[0] if active else None


def version_item(driver, version, channel_type="chat"):
    return driver.find_element(By.CSS_SELECTOR, f'#prompts-{channel_type} li.prompt-version[data-version="{version}"]')


def wait_active(driver, version, channel_type="chat"):
    """Until the page shows version as the one active version of its channel type."""
    def shown(d):
        items = d.find_elements(By.CSS_SELECTOR, f'#prompts-{channel_type} li.prompt-version[data-active="true"]')
        return len(items) == 1 and items[0].get_attribute("data-version") == version
    wait(driver).until(shown, f"{version} is not shown active")
    return version_item(driver, version, channel_type)


def faq_row(driver, question):
    """The FAQ table's row of that question, once it is there."""
    return wait(driver).until(lambda d: next((tr for tr in d.find_elements(By.CSS_SELECTOR, "#faqs-list tbody tr")
                                              if tr.find_element(By.CSS_SELECTOR, ".faq-question").text == question), None))


def faqs_with(api, question):
    status, page = api.call("GET", "/v1/faqs", owner(api))
    assert status == 200, page
    return [f for f in page["items"] if f["question"] == question]


def add_version(driver, version, body, notes=None):
    click(driver, driver.find_element(By.ID, "prompt-add"))
    open_dialog(driver)
    type_into(driver, "prompt-version", version)
    type_into(driver, "prompt-body", body)
    if notes:
        type_into(driver, "prompt-notes", notes)
    submit_dialog(driver)
    no_dialog(driver)
    return wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#prompts-chat li.prompt-version[data-version="{version}"]'))[0]


def confirm(driver):
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)


# ---------- agents ----------

def test_an_agent_made_in_the_page_is_the_apis_and_a_second_of_the_same_name_is_refused(browser, base_url, api):
    name = unique("Mauzo agent")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/agents", page="agents")
    menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert "agents" in menu and "faqs" in menu, menu
    click(driver, driver.find_element(By.ID, "agent-create"))
    open_dialog(driver)
    type_into(driver, "agent-name", name)
    Select(driver.find_element(By.ID, "agent-kind")).select_by_value("sales")
    type_into(driver, "agent-product", "Fuel vouchers")
    # English is ticked for a new agent; Swahili added
    assert driver.find_element(By.ID, "agent-lang-en").is_selected()
    click(driver, driver.find_element(By.ID, "agent-lang-sw"))
    tone = Select(driver.find_element(By.ID, "agent-tone"))
    assert [o.get_attribute("value") for o in tone.options] == ["mtaa", "rafiki", "kazi", "sana", "neutral"]
    assert "street Sheng" in tone.options[0].text
    tone.select_by_value("rafiki")
    assert tone.first_selected_option.text == "Rafiki: friendly and warm"
    # every tool is allowed for a new agent; hand-off taken away
    assert all(driver.find_element(By.ID, f"agent-tool-{tool}").is_selected() for tool in ("voucher_status", "faq_lookup", "handoff"))
    click(driver, driver.find_element(By.ID, "agent-tool-handoff"))
    assert not driver.find_element(By.ID, "agent-default").is_selected()
    # a new agent starts as a draft, answering no customer until it goes live
    assert driver.find_element(By.ID, "agent-draft").is_selected()
    type_into(driver, "agent-handoff", "mtu, person")
    type_into(driver, "agent-max-length", "300")
    submit_dialog(driver)
    # it opens on its own page
    page_ready(driver, "agents/:id")
    wait(driver).until(lambda d: name in d.find_element(By.ID, "agent-status").text)
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == name
    found = agents_named(api, name)
    assert len(found) == 1, found
    agent = found[0]
    assert driver.execute_script("return location.hash") == f"#/agents/{agent['id']}"
    assert agent["kind"] == "sales" and agent["product"] == "Fuel vouchers" and agent["tone"] == "rafiki"
    assert sorted(agent["languages"]) == ["en", "sw"]
    assert sorted(agent["tools"]) == ["faq_lookup", "voucher_status"]
    assert agent["policy"].get("handoffKeywords") == ["mtu", "person"] and agent["policy"].get("maxAnswerLength") == 300
    assert agent["isDefault"] is False and agent["status"] == "draft"
    details = driver.find_element(By.ID, "agent-details").text
    assert "Sales" in details and "Rafiki" in details and "English, Swahili" in details and "300 characters" in details
    # listed, with its kind, tone and tools
    go(driver, "#/agents", "agents")
    row = wait(driver).until(lambda d: next((tr for tr in d.find_elements(By.CSS_SELECTOR, "#agents-list tbody tr")
                                             if tr.get_attribute("data-id") == agent["id"]), None))
    assert name in row.text and "Sales" in row.text and "Rafiki" in row.text and "Voucher status, FAQ lookup" in row.text
    assert "Draft" in row.text
    # the same name again (in other letters' case): the API refuses it, and the dialog says so and stays open
    click(driver, driver.find_element(By.ID, "agent-create"))
    open_dialog(driver)
    type_into(driver, "agent-name", name.upper())
    submit_dialog(driver)
    error = wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .form-error").text or None)
    assert error == DUPLICATE
    assert driver.find_elements(By.CSS_SELECTOR, "dialog[open]")
    assert len(agents_named(api, name)) == 1
    click(driver, driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]"))
    no_dialog(driver)


def test_an_agent_is_edited_and_archived_in_its_page(browser, base_url, api):
    agent = new_agent(api, languages=["en"], tone="kazi", policy={"monthlySpendCapMicros": 5000000})
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/agents/{agent['id']}", page="agents/:id")
    click(driver, driver.find_element(By.ID, "agent-edit"))
    open_dialog(driver)
    assert not driver.find_element(By.ID, "agent-kind").is_enabled()  # the kind stays
    assert Select(driver.find_element(By.ID, "agent-tone")).first_selected_option.get_attribute("value") == "kazi"
    click(driver, driver.find_element(By.ID, "agent-lang-rw"))
    Select(driver.find_element(By.ID, "agent-tone")).select_by_value("sana")
    cap = driver.find_element(By.ID, "agent-spend-cap")
    assert cap.get_attribute("value") == "5.00"
    cap.clear()
    cap.send_keys("12.x")
    submit_dialog(driver)
    assert "US dollars" in wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .form-error").text or None)
    cap.clear()
    cap.send_keys("12.345678")
    submit_dialog(driver)
    no_dialog(driver)
    page_ready(driver, "agents/:id")
    wait(driver).until(lambda d: "saved" in d.find_element(By.ID, "agent-status").text)
    status, stored = api.call("GET", f"/v1/agents/{agent['id']}", owner(api))
    assert status == 200 and stored["tone"] == "sana" and sorted(stored["languages"]) == ["en", "rw"]
    # the agent's own spend cap, typed in dollars, is stored in micro-dollars exactly
    assert stored["policy"].get("monthlySpendCapMicros") == 12345678
    click(driver, driver.find_element(By.ID, "agent-archive"))
    confirm(driver)
    wait(driver).until(EC.presence_of_element_located((By.ID, "agent-activate")))
    status, stored = api.call("GET", f"/v1/agents/{agent['id']}", owner(api))
    assert stored["status"] == "archived"
    click(driver, driver.find_element(By.ID, "agent-activate"))
    confirm(driver)
    wait(driver).until(EC.presence_of_element_located((By.ID, "agent-archive")))
    status, stored = api.call("GET", f"/v1/agents/{agent['id']}", owner(api))
    assert stored["status"] == "active"



def test_the_crm_tools_can_be_ticked_and_are_saved(browser, base_url, api):
    crm_tools = {"lookup_lead": "CRM: look up the customer's lead", "update_lead": "CRM: update the lead (details and score)",
                 "handoff_to_assignee": "CRM: hand off to the lead's assignee"}
    agent = new_agent(api)
    assert not set(crm_tools) & set(agent["tools"]), agent["tools"]
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/agents/{agent['id']}", page="agents/:id")
    click(driver, driver.find_element(By.ID, "agent-edit"))
    dialog = open_dialog(driver)
    for tool, label in crm_tools.items():
        box = driver.find_element(By.ID, f"agent-tool-{tool}")
        assert not box.is_selected()
        assert dialog.find_element(By.CSS_SELECTOR, f'label[for="agent-tool-{tool}"]').text == label
        click(driver, box)
    submit_dialog(driver)
    no_dialog(driver)
    page_ready(driver, "agents/:id")
    wait(driver).until(lambda d: "saved" in d.find_element(By.ID, "agent-status").text)
    status, stored = api.call("GET", f"/v1/agents/{agent['id']}", owner(api))
    assert status == 200 and set(stored["tools"]) == set(agent["tools"]) | set(crm_tools), stored["tools"]
    shown = driver.find_element(By.ID, "agent-details").text
    assert all(label in shown for label in crm_tools.values()), shown
    # the form opened again has them ticked
    click(driver, driver.find_element(By.ID, "agent-edit"))
    open_dialog(driver)
    assert all(driver.find_element(By.ID, f"agent-tool-{tool}").is_selected() for tool in crm_tools)
    click(driver, driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]"))
    no_dialog(driver)


# ---------- prompt versions ----------

def test_prompt_versions_are_added_activated_rolled_back_and_compared(browser, base_url, api):
    agent = new_agent(api)
    first = "You are the station's helper.\nAnswer in two sentences.\nNever promise a refund."
    second = "You are the station's helper.\nAnswer in one short sentence.\nNever promise a refund.\nOffer a person when unsure."
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/agents/{agent['id']}", page="agents/:id")
    assert driver.find_element(By.ID, "diff-none").is_displayed()  # nothing to compare yet
    # 1.0.0, suggested for the first version, becomes active by itself
    click(driver, driver.find_element(By.ID, "prompt-add"))
    open_dialog(driver)
    assert driver.find_element(By.ID, "prompt-version").get_attribute("value") == "1.0.0"
    click(driver, driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]"))
    no_dialog(driver)
    add_version(driver, "1.0.0", first, notes="first words")
    wait_active(driver, "1.0.0")
    assert "first words" in version_item(driver, "1.0.0").text
    assert active_version(api, agent["id"]) == "1.0.0"
    # the next one: the next patch version is suggested, the active text is where it starts
    click(driver, driver.find_element(By.ID, "prompt-add"))
    open_dialog(driver)
    assert driver.find_element(By.ID, "prompt-version").get_attribute("value") == "1.0.1"
    assert driver.find_element(By.ID, "prompt-body").get_attribute("value") == first
    click(driver, driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]"))
    no_dialog(driver)
    add_version(driver, "1.1.0", second)
    wait(driver).until(lambda d: "version 1.1.0 added" in d.find_element(By.ID, "prompts-status").text)
    assert version_item(driver, "1.1.0").get_attribute("data-active") == "false"
    assert active_version(api, agent["id"]) == "1.0.0"
    # a version that exists already is refused by the API, in the dialog
    click(driver, driver.find_element(By.ID, "prompt-add"))
    open_dialog(driver)
    type_into(driver, "prompt-version", "1.1.0")
    submit_dialog(driver)
    error = wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .form-error").text or None)
    assert "already exists" in error
    click(driver, driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value=cancel]"))
    no_dialog(driver)
    # activate the newer one
    button = version_item(driver, "1.1.0").find_element(By.CSS_SELECTOR, 'button[data-action="activate"]')
    assert button.text == "Activate 1.1.0"
    click(driver, button)
    confirm(driver)
    wait_active(driver, "1.1.0")
    assert active_version(api, agent["id"]) == "1.1.0"
    # the older one is now a rollback
    button = version_item(driver, "1.0.0").find_element(By.CSS_SELECTOR, "button[data-write]")
    assert button.text == "Roll back to 1.0.0" and button.get_attribute("data-action") == "rollback"
    click(driver, button)
    confirm(driver)
    wait_active(driver, "1.0.0")
    wait(driver).until(lambda d: "rolled back to version 1.0.0" in d.find_element(By.ID, "prompts-status").text)
    assert active_version(api, agent["id"]) == "1.0.0"
    assert version_item(driver, "1.1.0").find_element(By.CSS_SELECTOR, "button[data-write]").text == "Activate 1.1.0"
    # the diff: 1.0.0 on the left, 1.1.0 on the right (the newest against the one before it, by default)
    assert Select(driver.find_element(By.ID, "diff-from")).first_selected_option.text == "1.0.0"
    assert Select(driver.find_element(By.ID, "diff-to")).first_selected_option.text == "1.1.0"
    click(driver, driver.find_element(By.ID, "diff-compare"))
    wait(driver).until(EC.visibility_of_element_located((By.ID, "prompt-diff")))
    cells = lambda side, change: [c.find_element(By.CSS_SELECTOR, ".diff-line").text for c in driver.find_elements(
        By.CSS_SELECTOR, f'#prompt-diff td.diff-text[data-side="{side}"][data-change="{change}"]')]
    assert cells("old", "removed") == ["Answer in two sentences."]
    assert cells("new", "added") == ["Answer in one short sentence.", "Offer a person when unsure."]
    assert cells("old", "same") == cells("new", "same") == ["You are the station's helper.", "Never promise a refund."]
    assert cells("old", "added") == [] and cells("new", "removed") == []
    # the removed line sits beside the line that replaced it, each marked in text, not colour only
    row = driver.find_element(By.CSS_SELECTOR, '#prompt-diff td.diff-text[data-change="removed"]').find_element(By.XPATH, "./..")
    signs = [td.text for td in row.find_elements(By.CSS_SELECTOR, "td.diff-sign")]
    assert signs == ["−", "+"], signs
    assert "Answer in one short sentence." in row.text
    headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#prompt-diff thead th")]
    assert headers == ["Old: 1.0.0", "New: 1.1.0"], headers
    assert "2 lines added, 1 removed" in driver.find_element(By.ID, "diff-summary").text
    # the same as the API's
    status, diff = api.call("GET", f"/v1/agents/{agent['id']}/prompts/diff?from=1.0.0&to=1.1.0&channelType=chat", owner(api))
    assert status == 200
    assert [line["text"] for line in diff["lines"] if line["change"] == "added"] == cells("new", "added")
    assert [line["text"] for line in diff["lines"] if line["change"] == "removed"] == cells("old", "removed")


# ---------- FAQs ----------

def test_an_faq_added_in_the_page_is_listed_with_no_use(browser, base_url, api, sql):
    question = unique("Where do I redeem voucher")
    answer = "At any Sokoni station: show the code to the attendant."
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/faqs", page="faqs")
    click(driver, driver.find_element(By.ID, "faq-create"))
    open_dialog(driver)
    type_into(driver, "faq-category", "Vouchers")
    type_into(driver, "faq-question", question)
    type_into(driver, "faq-answer", answer)
    type_into(driver, "faq-keywords", "redeem, station, where")
    Select(driver.find_element(By.ID, "faq-language")).select_by_value("sw")
    type_into(driver, "faq-order", "7")
    assert driver.find_element(By.ID, "faq-active").is_selected()
    submit_dialog(driver)
    no_dialog(driver)
    row = faq_row(driver, question)
    assert row.find_element(By.CSS_SELECTOR, ".faq-usage").text == "0"
    assert row.find_element(By.CSS_SELECTOR, ".faq-order").text == "7"
    assert "Vouchers" in row.text and "redeem, station, where" in row.text and "Swahili" in row.text and "Active" in row.text
    found = faqs_with(api, question)
    assert len(found) == 1, found
    faq = found[0]
    assert faq["answer"] == answer and faq["keywords"] == ["redeem", "station", "where"] and faq["language"] == "sw"
    assert faq["category"] == "Vouchers" and faq["displayOrder"] == 7 and faq["active"] is True and faq["usageCount"] == 0
    # straight from the database, with no service in between: stored unused
    assert sql(f"SELECT usage_count, active FROM agent.faqs WHERE id = '{faq['id']}'") == [["0", "t"]]
    # edited in its dialog
    click(driver, row.find_element(By.CSS_SELECTOR, 'button[data-action="edit"]'))
    open_dialog(driver)
    assert driver.find_element(By.ID, "faq-question").get_attribute("value") == question
    type_into(driver, "faq-answer", "At any Sokoni station.")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: faq_row(d, question).find_element(By.CSS_SELECTOR, ".faq-answer").text == "At any Sokoni station.")
    assert faqs_with(api, question)[0]["answer"] == "At any Sokoni station."
    # turned off and on again
    click(driver, faq_row(driver, question).find_element(By.CSS_SELECTOR, 'button[data-action="toggle"]'))
    wait(driver).until(lambda d: "Inactive" in faq_row(d, question).text)
    assert faqs_with(api, question)[0]["active"] is False
    toggle = faq_row(driver, question).find_element(By.CSS_SELECTOR, 'button[data-action="toggle"]')
    assert toggle.text == "Activate"
    click(driver, toggle)
    wait(driver).until(lambda d: faq_row(d, question).find_element(By.CSS_SELECTOR, 'button[data-action="toggle"]').text == "Deactivate")
    assert faqs_with(api, question)[0]["active"] is True


# ---------- who sees what ----------

def test_readonly_staff_see_the_agent_pages_without_any_write_control(browser, base_url, api):
    agent = new_agent(api)
    for version, body in (("1.0.0", "Hello.\nBe brief."), ("1.1.0", "Hello.\nBe very brief.")):
        status, created = api.call("POST", f"/v1/agents/{agent['id']}/prompts", owner(api),
                                   body={"channelType": "sms", "version": version, "body": body})
        assert status == 201, created
    question = unique("Readonly question")
    status, faq = api.call("POST", "/v1/faqs", owner(api), body={"question": question, "answer": "Read me."})
    assert status == 201, faq
    driver = browser("desktop")
    sign_in_as_readonly(driver, base_url, api, "#/agents")
    page_ready(driver, "agents")
    menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert {"agents", "faqs"} <= set(menu), menu
    for route, page in (("#/agents", "agents"), (f"#/agents/{agent['id']}", "agents/:id"), ("#/faqs", "faqs")):
        go(driver, route, page)
        assert driver.find_elements(By.CSS_SELECTOR, "[data-write]") == [], f"{route} shows a write control"
        for control in ("agent-create", "agent-edit", "agent-archive", "agent-activate", "prompt-add", "faq-create"):
            assert not driver.find_elements(By.ID, control), f"{route} shows #{control}"
        buttons = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#main button, #main a.btn") if b.text]
        assert not [b for b in buttons if re.match(r"(New|Add|Edit|Archive|Activate|Deactivate|Roll back)", b)], f"{route}: {buttons}"
    # what they see is real: the agent, its versions (the active one marked), the diff; the FAQ
    go(driver, f"#/agents/{agent['id']}", "agents/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == agent["name"]
    wait_active(driver, "1.0.0", "sms")
    assert version_item(driver, "1.1.0", "sms").get_attribute("data-active") == "false"
    click(driver, driver.find_element(By.ID, "diff-compare"))
    wait(driver).until(lambda d: [c.text for c in d.find_elements(By.CSS_SELECTOR, '#prompt-diff td.diff-text[data-change="added"] .diff-line')]
                       == ["Be very brief."])
    go(driver, "#/faqs", "faqs")
    assert faq_row(driver, question).find_element(By.CSS_SELECTOR, ".faq-usage").text == "0"
    # and the API refuses their writes whatever the page shows
    token = api.login(READONLY)
    headers = {"X-Tenant-ID": tenant_of(api), "Idempotency-Key": str(uuid.uuid4())}
    for method, path, body in (("POST", "/v1/agents", {"name": unique("x"), "kind": "support"}),
                               ("PATCH", f"/v1/agents/{agent['id']}", {"status": "archived"}),
                               ("POST", f"/v1/agents/{agent['id']}/prompts", {"channelType": "sms", "version": "9.0.0", "body": "x"}),
                               ("POST", f"/v1/agents/{agent['id']}/prompts/1.1.0/activate?channelType=sms", None),
                               ("POST", "/v1/faqs", {"question": "x", "answer": "y"}),
                               ("PATCH", f"/v1/faqs/{faq['id']}", {"active": False})):
        status, answer = api.call(method, path, token, body=body, headers=headers)
        assert status == 403, f"{method} {path} as readonly: {status} {answer}"
    assert active_version(api, agent["id"], "sms") == "1.0.0"


def test_the_agent_pages_fit_a_phone(browser, base_url, api):
    agent = new_agent(api, product="A product name long enough to wrap on a narrow phone screen")
    long_line = "Answer politely and briefly, in the customer's language, and never invent a voucher status or a price. " * 2
    for version, body in (("1.0.0", f"Hello.\n{long_line}\nBye."), ("1.0.1", f"Hello there.\n{long_line}\nBye.\nAsk for a person.")):
        status, created = api.call("POST", f"/v1/agents/{agent['id']}/prompts", owner(api), body={"channelType": "chat", "version": version, "body": body})
        assert status == 201, created
    status, faq = api.call("POST", "/v1/faqs", owner(api), body={"question": unique("Phone question"), "answer": long_line, "keywords": ["phone"]})
    assert status == 201, faq
    driver = browser("phone")
    sign_in(driver, base_url, api, route="#/agents", page="agents")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    status, session = api.call("POST", "/v1/agent/sessions", owner(api), body={"agentId": agent["id"]})
    assert status == 201, session
    status, exchange = api.call("POST", f"/v1/agent/sessions/{session['id']}/messages", owner(api), body={"text": long_line})
    assert status == 201, exchange
    for route, page in (("#/agents", "agents"), (f"#/agents/{agent['id']}", "agents/:id"), ("#/faqs", "faqs"),
                        (f"#/agents/{agent['id']}/try?session={session['id']}", "agents/:id/try")):
        go(driver, route, page)
        if page == "agents/:id/try":
            wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#try-log li[data-turn]")) == 2)
        if page == "agents/:id":
            click(driver, driver.find_element(By.ID, "diff-compare"))
            wait(driver).until(EC.visibility_of_element_located((By.ID, "prompt-diff")))
        wide = driver.execute_script("""
            const limit = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')].filter((e) => !e.closest('thead, .visually-hidden'))
              .filter((e) => e.getBoundingClientRect().right > limit + 1)
              .slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className);""")
        assert wide == [], f"{route} is wider than 360 px: {wide}"
        shown = driver.find_element(By.ID, "main").text
        assert not re.search(r"\bnull\b|\bundefined\b|\[object ", shown), f"{route} shows: {shown}"
    # the dialogs fit too
    go(driver, "#/agents", "agents")
    click(driver, driver.find_element(By.ID, "agent-create"))
    dialog = open_dialog(driver)
    assert dialog.rect["x"] >= 0 and dialog.rect["x"] + dialog.rect["width"] <= 361


# ---------- try it ----------

def test_try_it_talks_to_a_draft_agent_and_shows_what_each_turn_did(browser, base_url, api):
    word = f"zebra{uuid.uuid4().hex[:6]}"
    agent = new_agent(api, name=unique("Draft desk"), status="draft", languages=["en", "sw"])
    question = f"Do you sell {word} tyres?"
    answer = f"Yes, {word} tyres are in stock at every station."
    status, faq = api.call("POST", "/v1/faqs", owner(api), body={"question": question, "answer": answer, "keywords": [word, "tyres"], "language": "en"})
    assert status == 201, faq
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/agents/{agent['id']}", page="agents/:id")
    assert "Draft" in driver.find_element(By.ID, "agent-details").text
    click(driver, driver.find_element(By.ID, "agent-try"))
    page_ready(driver, "agents/:id/try")
    assert "draft" in driver.find_element(By.ID, "try-live").text
    assert "No sessions" in driver.find_element(By.ID, "try-sessions").text
    click(driver, driver.find_element(By.ID, "try-start"))
    wait(driver).until(EC.visibility_of_element_located((By.ID, "try-form")))
    session_id = wait(driver).until(lambda d: re.search(r"session=([0-9a-f-]{36})", d.execute_script("return location.hash")))
    session_id = session_id.group(1)

    def say_and_wait(text, turns):
        box = driver.find_element(By.ID, "try-text")
        box.send_keys(text)
        box.send_keys("\n")  # Enter sends
        wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#try-log li[data-turn]")) == turns)
        return driver.find_element(By.CSS_SELECTOR, f'#try-log li[data-turn="{turns}"]')

    first = say_and_wait(f"Hello, do you have {word} tyres?", 2)
    assert first.get_attribute("data-sender") == "agent"
    assert first.find_element(By.CSS_SELECTOR, ".msg-body").text == answer
    assert "Offline responder" in first.find_element(By.CSS_SELECTOR, '[data-trace="answered-by"]').text
    assert first.find_element(By.CSS_SELECTOR, '[data-trace="sources"]').text.endswith(f"FAQ: {question}")
    assert "0" in first.find_element(By.CSS_SELECTOR, '[data-trace="tokens"]').text
    second = say_and_wait("I want to talk to a person please", 4)
    assert "asked for a person" in second.find_element(By.CSS_SELECTOR, '[data-trace="handoff"]').text
    assert "handoff(" in second.find_element(By.CSS_SELECTOR, '[data-trace="tools"]').text
    # the API holds the same four turns, and the draft answered no customer
    status, stored = api.call("GET", f"/v1/agent/sessions/{session_id}", owner(api))
    assert status == 200, stored
    assert [m["sender"] for m in stored["messages"]] == ["user", "agent", "user", "agent"]
    assert stored["messages"][1]["text"] == answer and stored["messages"][3]["reply"]["handoff"] is True
    status, faqs = api.call("GET", "/v1/faqs", owner(api))
    assert next(f for f in faqs["items"] if f["id"] == faq["id"])["usageCount"] == 0
    # reopened from the list after a reload: the same turns
    driver.refresh()
    page_ready(driver, "agents/:id/try")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#try-log li[data-turn]")) == 4)
    item = driver.find_element(By.CSS_SELECTOR, f'#try-sessions li[data-id="{session_id}"]')
    assert item.get_attribute("aria-current") is not None and "4 turns" in item.text
    # going live from the agent's page
    go(driver, f"#/agents/{agent['id']}", "agents/:id")
    assert driver.find_element(By.ID, "agent-activate").text == "Go live"
    click(driver, driver.find_element(By.ID, "agent-activate"))
    confirm(driver)
    wait(driver).until(EC.presence_of_element_located((By.ID, "agent-archive")))
    status, stored = api.call("GET", f"/v1/agents/{agent['id']}", owner(api))
    assert stored["status"] == "active"


def test_channels_are_bound_to_an_agent_from_its_page(browser, base_url, api):
    agent = new_agent(api, name=unique("Channel desk"), status="draft")
    status, channel = api.call("POST", "/v1/channels", owner(api), body={"kind": "sandbox", "name": unique("Desk sandbox")},
                               headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, channel
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/agents/{agent['id']}", page="agents/:id")
    wait(driver).until(EC.presence_of_element_located((By.ID, "agent-no-channels")))
    Select(driver.find_element(By.ID, "agent-bind-channel")).select_by_value(channel["id"])
    click(driver, driver.find_element(By.ID, "agent-bind"))
    open_dialog(driver)
    type_into(driver, "agent-bind-reason", "the desk answers this sandbox")
    submit_dialog(driver)
    no_dialog(driver)
    page_ready(driver, "agents/:id")
    item = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#agent-channels li[data-id="{channel["id"]}"]'))[0]
    assert channel["name"] in item.text
    status, stored = api.call("GET", f"/v1/channels/{channel['id']}", owner(api))
    assert status == 200 and stored["agentId"] == agent["id"], stored
    # and unbound again
    click(driver, item.find_element(By.CSS_SELECTOR, "button"))
    open_dialog(driver)
    type_into(driver, "agent-bind-reason", "back to the default agent")
    submit_dialog(driver)
    no_dialog(driver)
    page_ready(driver, "agents/:id")
    wait(driver).until(EC.presence_of_element_located((By.ID, "agent-no-channels")))
    status, stored = api.call("GET", f"/v1/channels/{channel['id']}", owner(api))
    assert status == 200 and stored.get("agentId") is None, stored
