"""The LLM costs page of the admin console in a real Chromium: this month's spend (a recorded call written to the
database, as a reply leaves it) is shown against the cap set over the API, with the percentage the API reports; the
chart has a bar for the day; the CSV export hands over the API's own CSV; the provider form saves a provider and
the cap, then shows only the key's last four characters (the key is in neither the page nor the database in plain
text). The demo tenant's providers and the seeded call are put back after each test (the demo database is shared)."""
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from console import OWNER, click, go, page_holds, sign_in, tenant_of, wait

SECRET = "sk-browser-secret-" + uuid.uuid4().hex[:12] + "WXYZ"


@pytest.fixture
def demo_tenant(api, sql):
    """The demo tenant's id; afterwards its own providers and cap are removed and the calls a test seeded deleted."""
    seeded = []
    tenant = tenant_of(api)
    yield tenant, seeded
    status, body = api.call("PUT", "/v1/agent/providers", api.login(OWNER), body={"providers": []})
    assert status == 200, body
    for call_id in seeded:
        sql(f"DELETE FROM agent.llm_calls WHERE id = '{call_id}'")


def seed_call(sql, tenant, seeded, micros, model="gpt-4o-mini"):
    """A recorded LLM call of today, as a reply leaves it behind."""
    call_id = str(uuid.uuid4())
    sql("INSERT INTO agent.llm_calls (id, tenant_id, attempt_id, provider, model, call_type, input_tokens, output_tokens, cost_micros, latency_ms) "
        f"VALUES ('{call_id}', '{tenant}', '{uuid.uuid4()}', 'primary', '{model}', 'chat', 1200, 80, {micros}, 420)")
    seeded.append(call_id)


def costs(api, query=""):
    status, report = api.call("GET", f"/v1/agent/costs{query}", api.login(OWNER))
    assert status == 200, report
    return report


def total(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'#costs-cap [data-total="{name}"]')


def test_the_page_shows_the_spend_against_the_cap_and_exports_the_apis_csv(browser, base_url, api, sql, demo_tenant):
    tenant, seeded = demo_tenant
    status, body = api.call("PUT", "/v1/agent/providers", api.login(OWNER), body={"monthlyCapMicros": 10_000_000, "providers": []})
    assert status == 200, body
    seed_call(sql, tenant, seeded, 1_234_567)
    seed_call(sql, tenant, seeded, 65_433, model="gpt-4.1-nano")
    report = costs(api)
    cap = report["cap"]
    assert cap["capMicros"] == 10_000_000 and cap["spentMicros"] >= 1_300_000, cap

    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/costs", page="costs")
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#costs-cap [data-total="spent"]')))
    assert total(driver, "spent").get_attribute("data-value") == str(cap["spentMicros"])
    assert total(driver, "cap").get_attribute("data-value") == "10000000"
    assert "$10.00" in driver.find_element(By.ID, "costs-cap-value").text
    assert float(total(driver, "percent").get_attribute("data-value")) == cap["percent"]
    assert driver.find_element(By.ID, "costs-mode").get_attribute("data-mode") == cap["mode"]
    progress = driver.find_element(By.ID, "costs-progress")
    assert progress.get_attribute("max") == "10000000"

    # the chart: today's bars by model, each with its value; the calls table by model with the API's totals
    today = report["to"]
    bars = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#costs-chart rect.bar[data-day="{today}"]'))
    # bars in US cents
    assert round(sum(float(b.get_attribute("data-value")) for b in bars) * 10000) == sum(
        s["costMicros"] for s in report["series"] if s["by"] == "model" and s["day"] == today)
    legend = [li.get_attribute("data-series") for li in driver.find_elements(By.CSS_SELECTOR, "#costs-legend li")]
    assert "gpt-4o-mini" in legend and "gpt-4.1-nano" in legend, legend
    by_model = costs(api, f"?from={report['from']}&to={report['to']}&groupBy=model")
    shown = driver.find_element(By.CSS_SELECTOR, '#costs-rows tr[data-id="total"] .cost').get_attribute("data-micros")
    assert shown == str(by_model["totals"]["costMicros"])

    # by agent: the chart draws again from the same report
    Select(driver.find_element(By.ID, "costs-chart-by")).select_by_value("agent")
    wait(driver).until(lambda d: "No agent" in [li.get_attribute("data-series") for li in d.find_elements(By.CSS_SELECTOR, "#costs-legend li")])

    # the CSV export: the API's own bytes for the same range and grouping
    click(driver, driver.find_element(By.ID, "costs-export"))
    link = wait(driver).until(EC.visibility_of_element_located((By.ID, "costs-download")))
    assert link.get_attribute("href").startswith("blob:")
    assert link.get_attribute("download").endswith("-by-model.csv")
    # (the page's CSP lets no script read the blob back: its size is on the link)
    status, expected = api.call("GET", f"/v1/agent/costs?from={report['from']}&to={report['to']}&groupBy=model&format=csv", api.login(OWNER))
    assert status == 200 and isinstance(expected, str)
    assert link.get_attribute("data-bytes") == str(len(expected.encode()))
    assert expected.startswith("model,calls,failed_calls,") and "\r\ngpt-4o-mini," in expected and "\r\ntotal," in expected
    assert f",{by_model['totals']['costMicros']}," in expected.split("\r\ntotal,")[1]
    wait(driver).until(lambda d: d.find_element(By.ID, "costs-status").get_attribute("data-kind") == "ok")


def test_the_provider_form_saves_and_shows_only_the_keys_hint(browser, base_url, api, sql, demo_tenant):
    tenant, _ = demo_tenant
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/costs", page="costs")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "providers-form")))
    values = {
        "provider-0-name": "acme", "provider-0-base-url": "https://api.acme-llm.example/v1", "provider-0-model": "gpt-4o-mini",
        "provider-0-cheap-model": "gpt-4.1-nano", "provider-0-api-key": SECRET,
    }
    for element_id, text in values.items():
        field = driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(text)
    cap = driver.find_element(By.ID, "providers-cap")
    cap.clear()
    cap.send_keys("12.5")
    click(driver, driver.find_element(By.ID, "providers-save"))
    wait(driver).until(lambda d: d.find_element(By.ID, "providers-status").get_attribute("data-kind") == "ok")

    # the form shows the saved provider with the key's hint, and the key nowhere
    hint = wait(driver).until(EC.visibility_of_element_located((By.ID, "provider-0-key-hint"))).text
    assert "…WXYZ" in hint, hint
    assert driver.find_element(By.ID, "provider-0-api-key").get_attribute("value") == ""
    assert driver.find_element(By.ID, "provider-0-name").get_attribute("value") == "acme"
    assert not page_holds(driver, SECRET)
    # the page's cap is the one saved
    wait(driver).until(lambda d: total(d, "cap").get_attribute("data-value") == "12500000")

    # the API agrees and never returns the key
    status, config = api.call("GET", "/v1/agent/providers", api.login(OWNER))
    assert status == 200 and config["monthlyCapMicros"] == 12_500_000, config
    assert [(p["name"], p["model"], p.get("cheapModel"), p["apiKeyHint"]) for p in config["providers"]] == [
        ("acme", "gpt-4o-mini", "gpt-4.1-nano", "…WXYZ")]
    assert SECRET not in str(config)
    # at rest: sealed, with a key id; the key's text is not in the row
    rows = sql(f"SELECT api_key_key_id, position('{SECRET}' in encode(api_key, 'escape')), t::text LIKE '%{SECRET}%' "
               f"FROM agent.tenant_providers t WHERE tenant_id = '{tenant}'")
    assert len(rows) == 1 and rows[0][0] and rows[0][1] == "0" and rows[0][2] == "f", rows

    # saved again without touching the key: it is kept
    go(driver, "#/faqs", "faqs")
    go(driver, "#/costs", "costs")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "providers-form")))
    model = driver.find_element(By.ID, "provider-0-model")
    model.clear()
    model.send_keys("gpt-4o")
    click(driver, driver.find_element(By.ID, "providers-save"))
    wait(driver).until(lambda d: d.find_element(By.ID, "providers-status").get_attribute("data-kind") == "ok")
    status, config = api.call("GET", "/v1/agent/providers", api.login(OWNER))
    assert config["providers"][0]["model"] == "gpt-4o" and config["providers"][0]["apiKeyHint"] == "…WXYZ", config
