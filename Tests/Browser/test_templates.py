"""The console's message templates page (views/templates.js) in a real Chromium, against messaging through the gateway,
each test in a tenant of its own (test_campaigns.Shop: its admin and a sandbox channel).

The list shows each template's review status as a badge, with a rejection's reason, and filters by channel and
status; a template written in the "new template" dialog (header, body with {{1}} variables, footer, buttons) is the
API's, approved at once on a sandbox channel, and a bad name is refused before anything is sent; the preview fills the
variables typed, and one left out is named as the API names it. Each WhatsApp channel has "Sync from WhatsApp": it
says what the API answered (here a channel without its business account: the API's reason; and the counts of a
sync, the API's answer stood in for in the page, as Meta is not reachable from the test machine). Read-only staff
read the templates and preview them, with nothing that writes."""
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from console import click, go, open_dialog, submit_dialog, wait
from test_campaigns import READONLY, Shop, owner_page, says, staff_page, text


@pytest.fixture
def shop(api):
    return Shop(api)


def rows(driver):
    wait(driver).until(lambda d: d.find_element(By.ID, "templates-list").get_attribute("data-ready") == "true")
    return {tr.get_attribute("data-id"): tr for tr in driver.find_elements(By.CSS_SELECTOR, "#templates-list tbody tr")}


def shows(driver, ids):
    """Until the list shows exactly these templates (ids, any order)."""
    return wait(driver).until(lambda d: sorted(rows(d)) == sorted(ids) and rows(d), f"the list is not {ids}")


def whatsapp(shop):
    """A WhatsApp channel without its business account id (Meta's template calls need it)."""
    return shop.channel("whatsapp", f"WhatsApp {uuid.uuid4().hex[:4]}", config={"phoneNumberId": str(uuid.uuid4().int)[:15]},
                        secrets={"accessToken": f"EAAG{uuid.uuid4().hex}", "appSecret": uuid.uuid4().hex, "verifyToken": uuid.uuid4().hex})


def test_templates_are_listed_with_their_review_status_and_filtered_by_channel(browser, base_url, shop, sql):
    approved = shop.template(name=f"approved_{uuid.uuid4().hex[:6]}")
    rejected = shop.template(name=f"rejected_{uuid.uuid4().hex[:6]}", body="Win {{1}} today!")
    pending = shop.template(name=f"pending_{uuid.uuid4().hex[:6]}", body="Your order is ready.")
    other = shop.channel("sandbox", f"Second sandbox {uuid.uuid4().hex[:4]}")
    elsewhere = shop.template(name=f"elsewhere_{uuid.uuid4().hex[:6]}", channel=other)
    # Meta's review, as its status webhook records it (sandbox templates are approved when written)
    reason = "INVALID_FORMAT: the promotion is misleading"
    sql(f"UPDATE messaging.templates SET status = 'rejected', rejection_reason = '{reason}' WHERE id = '{rejected['id']}' RETURNING id")
    sql(f"UPDATE messaging.templates SET status = 'pending' WHERE id = '{pending['id']}' RETURNING id")
    driver = browser("desktop")
    owner_page(driver, base_url, shop, "#/templates", "templates")
    listed = shows(driver, [approved["id"], rejected["id"], pending["id"], elsewhere["id"]])
    badge = lambda t: listed[t["id"]].find_element(By.CSS_SELECTOR, ".template-status")  # noqa: E731
    assert badge(approved).get_attribute("data-status") == "approved" and badge(approved).text == "Approved"
    assert badge(rejected).get_attribute("data-status") == "rejected" and badge(rejected).text == "Rejected"
    assert badge(pending).get_attribute("data-status") == "pending" and badge(pending).text == "Pending review"
    assert listed[rejected["id"]].find_element(By.CSS_SELECTOR, ".template-reason").text == reason
    assert not listed[approved["id"]].find_elements(By.CSS_SELECTOR, ".template-reason")
    row = listed[approved["id"]]
    assert approved["name"] in row.text and shop.sandbox["name"] in row.text and "Marketing" in row.text
    assert row.find_element(By.CSS_SELECTOR, ".template-vars").text == "2"
    # by channel, and by status
    Select(driver.find_element(By.ID, "templates-channel")).select_by_value(other["id"])
    shows(driver, [elsewhere["id"]])
    assert f"channelId={other['id']}" in driver.execute_script("return location.hash")
    Select(driver.find_element(By.ID, "templates-channel")).select_by_value(shop.sandbox["id"])
    shows(driver, [approved["id"], rejected["id"], pending["id"]])
    Select(driver.find_element(By.ID, "templates-status-filter")).select_by_value("rejected")
    shows(driver, [rejected["id"]])
    # the builder offers approved templates only
    go(driver, "#/campaigns/new", "campaigns/new")
    Select(driver.find_element(By.ID, "campaign-channel")).select_by_value(shop.sandbox["id"])
    wait(driver).until(lambda d: d.find_element(By.ID, "campaign-template").get_attribute("value") == approved["id"])
    offered = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "campaign-template")).options if o.get_attribute("value")]
    assert offered == [approved["id"]]


def test_a_template_is_written_in_the_dialog_and_previewed_with_a_missing_variable_named(browser, base_url, shop):
    name = f"order_ready_{uuid.uuid4().hex[:6]}"
    driver = browser("desktop")
    owner_page(driver, base_url, shop, "#/templates", "templates")
    assert "No template yet" in wait(driver).until(lambda d: d.find_element(By.ID, "templates-list").text or None)
    click(driver, driver.find_element(By.ID, "templates-new"))
    open_dialog(driver)
    Select(driver.find_element(By.ID, "template-channel")).select_by_value(shop.sandbox["id"])
    # a name Meta would refuse is refused here, nothing sent
    driver.find_element(By.ID, "template-name").send_keys("Order Ready")
    driver.find_element(By.ID, "template-body").send_keys("x")
    submit_dialog(driver)
    says(driver, "dialog[open] .form-error", "lower-case letters")
    status, page = shop.call("GET", "/v1/templates")
    assert status == 200 and page["items"] == []
    driver.find_element(By.ID, "template-name").clear()
    driver.find_element(By.ID, "template-name").send_keys(name)
    Select(driver.find_element(By.ID, "template-language")).select_by_value("sw")
    Select(driver.find_element(By.ID, "template-category")).select_by_value("utility")
    Select(driver.find_element(By.ID, "template-header-type")).select_by_value("text")
    driver.find_element(By.ID, "template-header-text").send_keys("Karibu")
    body = driver.find_element(By.ID, "template-body")
    body.clear()
    body.send_keys("Habari {{1}}, order {{2}} is ready.")
    says(driver, "#template-vars-note", "Uses 2 variables: {{1}}, {{2}}.")
    driver.find_element(By.ID, "template-footer").send_keys("Sokoni")
    click(driver, driver.find_element(By.ID, "template-add-button"))
    first = driver.find_elements(By.CSS_SELECTOR, "#template-buttons li")[-1]
    first.find_element(By.CSS_SELECTOR, ".button-text").send_keys("Asante")
    click(driver, driver.find_element(By.ID, "template-add-button"))
    second = driver.find_elements(By.CSS_SELECTOR, "#template-buttons li")[-1]
    Select(second.find_element(By.CSS_SELECTOR, ".button-type")).select_by_value("url")
    second.find_element(By.CSS_SELECTOR, ".button-text").send_keys("See the order")
    second.find_element(By.CSS_SELECTOR, ".button-url").send_keys("https://example.com/orders")
    submit_dialog(driver)
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))
    says(driver, "#templates-status", f"Template {name} created: Approved.")
    # the API has it as the dialog said, approved at once on a sandbox channel
    status, page = shop.call("GET", "/v1/templates")
    assert status == 200 and len(page["items"]) == 1, page
    made = page["items"][0]
    assert made["name"] == name and made["language"] == "sw" and made["category"] == "utility" and made["status"] == "approved"
    assert made["header"] == {"type": "text", "text": "Karibu"} and made["footer"] == "Sokoni" and made["variableCount"] == 2
    assert made["body"] == "Habari {{1}}, order {{2}} is ready."
    assert made["buttons"] == [{"type": "quick_reply", "text": "Asante"}, {"type": "url", "text": "See the order", "url": "https://example.com/orders"}]
    row = shows(driver, [made["id"]])[made["id"]]
    assert row.find_element(By.CSS_SELECTOR, ".template-status").get_attribute("data-status") == "approved"

    # the preview: a variable left out is named as the API names it, then the text filled in
    click(driver, row.find_element(By.CSS_SELECTOR, ".template-preview-open"))
    open_dialog(driver)
    driver.find_element(By.ID, "tpl-var-1").send_keys("Aline")
    submit_dialog(driver)
    error = says(driver, "#tpl-preview-error", "{{2}}")
    assert driver.find_element(By.ID, "tpl-preview-error").get_attribute("data-code") == "missing_variable", error
    assert not text(driver, "#tpl-preview-text")
    driver.find_element(By.ID, "tpl-var-2").send_keys("42")
    submit_dialog(driver)
    says(driver, "#tpl-preview-text", "Habari Aline, order 42 is ready.")
    assert not text(driver, "#tpl-preview-error")
    status, preview = shop.call("POST", f"/v1/templates/{made['id']}/preview", {"variables": ["Aline", "42"]})
    assert status == 200 and preview["text"] == text(driver, "#tpl-preview-text")


def test_sync_from_whatsapp_says_what_the_api_answered(browser, base_url, shop):
    channel = whatsapp(shop)
    driver = browser("desktop")
    owner_page(driver, base_url, shop, "#/templates", "templates")
    # one button per WhatsApp channel, none for the sandbox
    buttons = driver.find_elements(By.CSS_SELECTOR, "#templates-sync .template-sync")
    assert [b.get_attribute("data-channel") for b in buttons] == [channel["id"]]
    assert channel["name"] in text(driver, "#templates-sync")
    # this channel has no business account id: the API's reason, and the API agrees
    click(driver, buttons[0])
    result = f"#sync-result-{channel['id']}"
    wait(driver, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, result).get_attribute("data-kind") == "error")
    code = driver.find_element(By.CSS_SELECTOR, result).get_attribute("data-code")
    status, answer = shop.call("POST", "/v1/templates/sync", {"channelId": channel["id"]})
    assert status in (422, 502) and answer["error"]["code"] == code, (status, answer, code)
    assert answer["error"]["message"] in text(driver, result)
    # a sandbox channel has no templates at Meta: the API refuses to sync it
    status, answer = shop.call("POST", "/v1/templates/sync", {"channelId": shop.sandbox["id"]})
    assert status == 422 and answer["error"]["code"] == "not_whatsapp", answer
    # the counts of a sync, as the page shows them (Meta's answer stood in for: it cannot be reached from here)
    driver.execute_script("""
        const real = window.fetch;
        window.fetch = (url, options) => String(url).endsWith('/v1/templates/sync')
          ? Promise.resolve(new Response(JSON.stringify({ created: 2, updated: 1, unchanged: 3, messagingTier: 'TIER_1K' }),
              { status: 200, headers: { 'Content-Type': 'application/json' } }))
          : real(url, options);""")
    click(driver, driver.find_element(By.CSS_SELECTOR, "#templates-sync .template-sync"))
    says(driver, result, "2 new, 1 updated, 3 unchanged.")
    assert "TIER_1K" in text(driver, result)
    assert driver.find_element(By.CSS_SELECTOR, result).get_attribute("data-kind") == "ok"


def test_read_only_staff_read_and_preview_templates_with_nothing_that_writes(browser, base_url, api, shop):
    template = shop.template()
    whatsapp(shop)
    driver = browser("desktop")
    staff_page(driver, base_url, api, READONLY, shop, "#/templates", "templates")
    listed = shows(driver, [template["id"]])
    assert driver.find_elements(By.CSS_SELECTOR, "#main [data-write]") == []
    assert not driver.find_elements(By.ID, "templates-new") and not driver.find_elements(By.ID, "templates-sync")
    # previewing writes nothing: theirs too
    click(driver, listed[template["id"]].find_element(By.CSS_SELECTOR, ".template-preview-open"))
    open_dialog(driver)
    driver.find_element(By.ID, "tpl-var-1").send_keys("Aline")
    driver.find_element(By.ID, "tpl-var-2").send_keys("10%")
    submit_dialog(driver)
    says(driver, "#tpl-preview-text", "Habari Aline, your discount is 10%.")
    status, _ = api.call("POST", "/v1/templates", api.login(READONLY), body={
        "channelId": shop.sandbox["id"], "name": "nope", "language": "en", "category": "marketing", "body": "x"},
        headers={"X-Tenant-ID": shop.id})
    assert status == 403


def test_the_templates_page_fits_a_phone(browser, base_url, shop):
    shop.template(body="A long line of text that wraps on a phone, with {{1}} and {{2}} in it, and more words after them.")
    whatsapp(shop)
    driver = browser("phone")
    owner_page(driver, base_url, shop, "#/templates", "templates")
    for route, page in (("#/templates", "templates"), ("#/campaigns", "campaigns"), ("#/campaigns/new", "campaigns/new")):
        go(driver, route, page)
        wide = driver.execute_script("""
            const limit = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')].filter((e) => !e.closest('thead, .visually-hidden, dialog'))
              .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > limit + 1)
              .slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className);""")
        assert wide == [], f"{route} is wider than the phone: {wide}"
