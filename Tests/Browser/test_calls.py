"""The console's voice-call pages (views/calls.js, call.js) in a real Chromium, against agent-core through the
gateway. Every test works in a tenant of its own, with its admin and an agent, so the calls it reads are its own.

The admin sets up the voice webhook on the calls page (its secret shown once, then only its last four characters);
Vapi's end-of-call reports, signed here as agent-core checks them (X-Signature: hex HMAC-SHA256 of
"<X-Timestamp>.<raw body>" with the secret), become calls, and a new secret refuses reports signed with the old one.
The list shows the calls newest first, a page at a time, and filters them by status, sentiment, days and the lead's
phone. A call's page shows the report (summary, facts, recording, lead) and the transcript line by line with speakers
and offsets (a line seeks the recording); a disposition added there is the API's and the database's, and a bad code is
refused with the API's error, nothing stored. The lead's timeline opens the call. Another tenant's admin sees none of
these calls, and an agent sees only the calls of the leads assigned to them."""
import datetime
import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from calendar_tenant import sign_in_with
from console import click, go, open_dialog, page_holds, page_ready, submit_dialog, wait

SUPER = "admin@sokoni.local"
UTC = datetime.timezone.utc
SUMMARY = "The caller wants to view a two-bedroom flat."
# Vapi's transcript: the system prompt, the assistant ("bot") and the caller ("user"); a tool call is no line
MESSAGES = [
    {"role": "system", "message": "You are a property agent.", "time": 1, "secondsFromStart": 0},
    {"role": "bot", "message": "Habari, karibu.", "time": 2, "endTime": 3, "secondsFromStart": 0.6},
    {"role": "user", "message": "Nataka kuona nyumba ya vyumba viwili.", "time": 4, "endTime": 5, "secondsFromStart": 3.25, "confidence": 0.91},
    {"role": "tool_calls", "message": "", "time": 6, "secondsFromStart": 5},
]
BAD_CODE = "A code is lower-case letters, digits and _ (up to 40), starting with a letter, e.g. call_back."


class Desk:
    """A fresh tenant with its admin (`call` speaks as them) and an agent (`as_agent`); `report` delivers a call."""

    def __init__(self, api):
        self.api = api
        slug = f"calls-{uuid.uuid4().hex[:8]}"
        status, tenant = api.call("POST", "/v1/tenants", api.login(SUPER), body={
            "name": f"Calls {slug}", "slug": slug, "plan": "pro", "currency": "KES"})
        assert status == 201, tenant
        self.id = tenant["id"]
        self.email, self.password = f"{slug}@example.com", f"pw-{uuid.uuid4().hex}"
        self.admin = self.user(self.email, self.password, "Calls owner", ["tenant_admin"])
        self.agent_email, self.agent_password = f"{slug}-agent@example.com", f"pw-{uuid.uuid4().hex}"
        self.agent = self.user(self.agent_email, self.agent_password, f"Agent {slug[-4:]}", ["agent"])
        self.tokens = {}
        self.path = self.secret = None

    def user(self, email, password, name, roles):
        status, user = self.api.call("POST", "/v1/users", self.api.login(SUPER), body={
            "email": email, "password": password, "name": name, "tenantId": self.id, "roles": roles})
        assert status == 201, user
        return user

    def call(self, method, path, body=None, as_agent=False):
        email, password = (self.agent_email, self.agent_password) if as_agent else (self.email, self.password)
        if email not in self.tokens:
            self.tokens[email] = self.api.login(email, password)
        return self.api.call(method, path, self.tokens[email], body=body)

    def webhook(self):
        """The webhook's path and secret, made through the API the first time."""
        if not self.secret:
            status, settings = self.call("POST", "/v1/voice/settings")
            assert status == 201, settings
            self.path, self.secret = settings["webhookPath"], settings["secret"]
        return self.path, self.secret

    def report(self, call_id=None, number=None, **fields):
        """Delivers a signed end-of-call report; the call the API made of it."""
        path, secret = self.webhook()
        call_id = call_id or f"call-{uuid.uuid4().hex[:10]}"
        status, answer = deliver(self.api.base_url + path, report(call_id, number or unique_phone(), **fields), secret)
        assert status == 200 and answer["received"] == "recorded", (status, answer)
        return self.get(answer["callId"])

    def get(self, call_id):
        status, found = self.call("GET", f"/v1/calls/{call_id}")
        assert status == 200, found
        return found


def unique_phone():
    return "+2547" + "".join(random.choice("0123456789") for _ in range(8))


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def report(call_id, number, reason="customer-ended-call", sentiment="positive", summary=SUMMARY, messages=MESSAGES, recording=True):
    """Vapi's end-of-call report (its server-URL message) of a 95-second inbound call that just ended."""
    ended = datetime.datetime.now(UTC)
    analysis = {"summary": summary, "successEvaluation": "true"}
    if sentiment:
        analysis["structuredData"] = {"sentiment": sentiment}
    artifact = {"messages": messages}
    if recording:
        artifact["recordingUrl"] = f"https://storage.vapi.ai/{call_id}-mono.wav"
    return json.dumps({"message": {
        "type": "end-of-call-report", "timestamp": int(ended.timestamp() * 1000), "endedReason": reason,
        "call": {"id": call_id, "orgId": "org_1", "type": "inboundPhoneCall", "status": "ended", "customer": {"number": number},
                 "phoneNumberId": "pn_1"},
        "artifact": artifact,
        "analysis": analysis,
        "startedAt": iso(ended - datetime.timedelta(seconds=95)), "endedAt": iso(ended), "cost": 0.1234, "durationSeconds": 95.2,
    }}, separators=(",", ":"))


def sign(body, secret, timestamp):
    """Vapi's HMAC credential, as VoiceReport.verify checks it: hex HMAC-SHA256 of "<timestamp>.<raw body>"."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def deliver(url, body, secret, tamper=False):
    """(status, parsed JSON) of the report posted as Vapi posts it, signed now."""
    raw = body.encode()
    stamp = str(int(time.time() * 1000))
    headers = {"Content-Type": "application/json", "X-Timestamp": stamp, "X-Signature": sign(raw, secret, stamp)}
    if tamper:
        raw = raw.replace(b"two-bedroom", b"six-bedroom")
    request = urllib.request.Request(url, data=raw, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, answer = error.code, error.read()
    return status, json.loads(answer) if answer else None


@pytest.fixture
def desk(api):
    return Desk(api)


# ---------- the page ----------

def calls_page(driver, base_url, desk, route="#/calls", page="calls", as_agent=False):
    email, password = (desk.agent_email, desk.agent_password) if as_agent else (desk.email, desk.password)
    sign_in_with(driver, base_url, email, password, route, page)


def rows(driver):
    wait(driver).until(lambda d: d.find_element(By.ID, "calls-list").get_attribute("data-ready") == "true")
    return [tr.get_attribute("data-id") for tr in driver.find_elements(By.CSS_SELECTOR, "#calls-list tbody tr")]


def shows(driver, expected):
    """Until the list shows exactly these calls (ids, in this order)."""
    return wait(driver).until(lambda d: rows(d) == expected or None, f"the list is not {expected}")


def apply(driver):
    click(driver, driver.find_element(By.ID, "calls-apply"))


def set_value(driver, element_id, value):
    """A date field's value as its picker would set it (typing depends on the browser's locale)."""
    driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, element_id), value)


def fill(driver, element_id, text):
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)
    return element


def text_of(driver, element_id, words):
    return wait(driver).until(lambda d: words in d.find_element(By.ID, element_id).text and d.find_element(By.ID, element_id).text)


def masked(phone):
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]


# ---------- the webhook ----------

def test_the_webhook_is_set_up_on_the_calls_page_its_secret_shown_once_and_a_new_one_refuses_the_old(browser, base_url, api, desk):
    driver = browser("desktop")
    calls_page(driver, base_url, desk)
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert links[links.index("pipeline"):links.index("pipeline") + 3] == ["pipeline", "leads", "calls"], links
    assert "No call yet" in wait(driver).until(lambda d: d.find_element(By.ID, "calls-list").text or None)
    wait(driver).until(EC.visibility_of_element_located((By.ID, "voice-none")))
    status, _ = desk.call("GET", "/v1/voice/settings")
    assert status == 404
    # set up: the secret in a dialog, once
    click(driver, driver.find_element(By.ID, "voice-rotate"))
    secret = wait(driver).until(lambda d: d.find_element(By.ID, "voice-secret").get_attribute("value") or None)
    assert "not shown again" in driver.find_element(By.ID, "voice-once").text
    click(driver, driver.find_element(By.ID, "voice-secret-done"))
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))
    status, settings = desk.call("GET", "/v1/voice/settings")
    assert status == 200 and settings.get("secret") is None, settings
    assert driver.find_element(By.ID, "voice-url").get_attribute("value") == base_url + settings["webhookPath"]
    assert driver.find_element(By.ID, "voice-secret-hint").text == settings["secretHint"] == "…" + secret[-4:]
    assert not page_holds(driver, secret)
    # the secret the page showed signs reports the API takes; a changed byte is refused
    url = base_url + settings["webhookPath"]
    body = report("call-setup", unique_phone())
    assert deliver(url, body, secret, tamper=True)[0] == 401
    status, answer = deliver(url, body, secret)
    assert status == 200 and answer["received"] == "recorded", answer
    click(driver, driver.find_element(By.ID, "calls-apply"))
    shows(driver, [answer["callId"]])

    # a new secret and URL: the old ones stop working at once
    click(driver, driver.find_element(By.ID, "voice-rotate"))
    assert "stop working at once" in open_dialog(driver).text
    submit_dialog(driver)

    def new_secret(d):
        shown = d.find_elements(By.ID, "voice-secret")
        value = shown[0].get_attribute("value") if shown else ""
        return value if value and value != secret else None

    fresh = wait(driver).until(new_secret)
    click(driver, driver.find_element(By.ID, "voice-secret-done"))
    text_of(driver, "voice-status", "New webhook URL and secret made")
    status, rotated = desk.call("GET", "/v1/voice/settings")
    assert rotated["webhookPath"] != settings["webhookPath"]
    wait(driver).until(lambda d: d.find_element(By.ID, "voice-url").get_attribute("value") == base_url + rotated["webhookPath"])
    assert driver.find_element(By.ID, "voice-secret-hint").text == "…" + fresh[-4:]
    assert not page_holds(driver, fresh)
    again = report("call-after", unique_phone())
    assert deliver(url, again, secret)[0] == 401
    assert deliver(base_url + rotated["webhookPath"], again, secret)[0] == 401
    status, answer = deliver(base_url + rotated["webhookPath"], again, fresh)
    assert status == 200 and answer["received"] == "recorded", answer


# ---------- the list ----------

def test_the_list_shows_the_calls_newest_first_pages_and_filters_them(browser, base_url, desk):
    first_phone, second_phone, other_phone = unique_phone(), unique_phone(), unique_phone()
    answered = desk.report(number=first_phone, sentiment="positive")
    missed = desk.report(number=second_phone, reason="customer-did-not-answer", sentiment="negative", messages=[])
    busy = desk.report(number=first_phone, reason="customer-busy", sentiment=None)
    more = [desk.report(number=other_phone, sentiment="neutral") for _ in range(9)]
    newest_first = [c["id"] for c in reversed([answered, missed, busy] + more)]
    assert (answered["status"], missed["status"], busy["status"]) == ("completed", "no-answer", "busy")
    assert answered["leadId"] == busy["leadId"] != missed["leadId"]

    driver = browser("desktop")
    calls_page(driver, base_url, desk)
    Select(driver.find_element(By.ID, "calls-size")).select_by_value("10")
    shows(driver, newest_first[:10])
    assert driver.find_element(By.ID, "calls-page").text == "Page 1" and driver.find_element(By.ID, "calls-next").is_enabled()
    click(driver, driver.find_element(By.ID, "calls-next"))
    shows(driver, newest_first[10:])
    assert driver.find_element(By.ID, "calls-page").text == "Page 2" and not driver.find_element(By.ID, "calls-next").is_enabled()
    click(driver, driver.find_element(By.ID, "calls-prev"))
    shows(driver, newest_first[:10])

    # by status, by sentiment, by the lead's phone (typed as people write it)
    Select(driver.find_element(By.ID, "calls-status-filter")).select_by_value("no-answer")
    apply(driver)
    shows(driver, [missed["id"]])
    assert "status=no-answer" in driver.execute_script("return location.hash")
    # a row: status and sentiment in words, the duration, the lead's masked phone linking to its page
    row = driver.find_element(By.CSS_SELECTOR, f'#calls-list tr[data-id="{missed["id"]}"]')
    assert row.find_element(By.CSS_SELECTOR, ".calls-status").text == "No answer"
    assert row.find_element(By.CSS_SELECTOR, ".calls-sentiment").text == "Negative"
    assert "1:35" in row.text and SUMMARY in row.text
    lead_link = row.find_element(By.CSS_SELECTOR, "a.calls-lead")
    assert lead_link.text == masked(second_phone) and lead_link.get_attribute("href").endswith(f"#/leads/{missed['leadId']}")
    Select(driver.find_element(By.ID, "calls-status-filter")).select_by_value("")
    Select(driver.find_element(By.ID, "calls-sentiment")).select_by_value("positive")
    apply(driver)
    shows(driver, [answered["id"]])
    Select(driver.find_element(By.ID, "calls-sentiment")).select_by_value("")
    fill(driver, "calls-lead", f"{first_phone[:4]} {first_phone[4:7]} {first_phone[7:]}")
    apply(driver)
    shows(driver, [busy["id"], answered["id"]])
    assert f"lead={answered['leadId']}" in driver.execute_script("return location.hash")
    fill(driver, "calls-lead", "+254700000001")
    apply(driver)
    assert "No lead has the phone +254700000001" in text_of(driver, "calls-status", "No lead has")
    fill(driver, "calls-lead", "")
    # by the days they were recorded (the browser's own today)
    today = driver.execute_script("return new Date().toLocaleDateString('en-CA')")
    tomorrow = driver.execute_script("const d = new Date(); d.setDate(d.getDate() + 1); return d.toLocaleDateString('en-CA')")
    set_value(driver, "calls-from", tomorrow)
    apply(driver)
    shows(driver, [])
    assert "No call matches" in driver.find_element(By.ID, "calls-list").text
    set_value(driver, "calls-from", today)
    set_value(driver, "calls-to", today)
    apply(driver)
    shows(driver, newest_first[:10])
    set_value(driver, "calls-to", driver.execute_script("const d = new Date(); d.setDate(d.getDate() - 1); return d.toLocaleDateString('en-CA')"))
    apply(driver)
    assert "first day comes after the last" in text_of(driver, "calls-status", "first day")
    click(driver, driver.find_element(By.ID, "calls-reset"))
    shows(driver, newest_first[:10])
    # a row opens its call
    click(driver, driver.find_element(By.CSS_SELECTOR, f'#calls-list tr[data-id="{busy["id"]}"] a.calls-when'))
    page_ready(driver, "calls/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").get_attribute("data-id") == busy["id"]


# ---------- a call ----------

def test_a_calls_page_shows_the_report_and_the_transcript_and_takes_a_disposition(browser, base_url, desk, sql):
    phone = unique_phone()
    call = desk.report(number=phone)
    driver = browser("desktop")
    calls_page(driver, base_url, desk, f"#/calls/{call['id']}", "calls/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == f"Call with {masked(phone)}"
    assert driver.find_element(By.ID, "call-summary").text == SUMMARY
    assert driver.find_element(By.ID, "call-direction").text == "Inbound"
    assert driver.find_element(By.ID, "call-status").text == "Completed"
    assert driver.find_element(By.ID, "call-duration").text == "1:35"
    assert driver.find_element(By.ID, "call-cost").text == "0.1234 USD"
    assert driver.find_element(By.ID, "call-sentiment").text == "Positive"
    assert driver.find_element(By.ID, "call-number").text == phone
    assert driver.find_element(By.ID, "call-started").text and driver.find_element(By.ID, "call-ended").text
    assert driver.find_element(By.ID, "call-ended-reason").text == "customer-ended-call"
    assert driver.find_element(By.ID, "call-lead").get_attribute("href").endswith(f"#/leads/{call['leadId']}")
    audio = driver.find_element(By.ID, "call-audio")
    assert audio.get_attribute("src") == call["recordingUrl"] == f"https://storage.vapi.ai/{call['providerCallId']}-mono.wav"
    # the transcript, line by line: who spoke, when, what
    lines = driver.find_elements(By.CSS_SELECTOR, "#call-transcript li.transcript-line")
    shown = [(li.get_attribute("data-speaker"), li.find_element(By.CSS_SELECTOR, ".transcript-speaker").text,
              li.find_element(By.CSS_SELECTOR, ".transcript-time").text, li.find_element(By.CSS_SELECTOR, ".transcript-text").text) for li in lines]
    assert shown == [
        ("system", "System", "0:00", "You are a property agent."),
        ("agent", "Agent", "0:00", "Habari, karibu."),
        ("customer", "Customer", "0:03", "Nataka kuona nyumba ya vyumba viwili."),
    ], shown
    assert [li.get_attribute("data-offset") for li in lines] == ["0", "600", "3250"]
    # a line seeks the recording to its offset
    click(driver, lines[2].find_element(By.CSS_SELECTOR, "button.transcript-seek"))
    wait(driver).until(lambda d: d.execute_script("return arguments[0].currentTime", audio) == 3.25)
    assert driver.find_element(By.ID, "call-no-dispositions").is_displayed()

    # a disposition: no code, then a code the API refuses (said in the page; nothing stored), then a good one
    click(driver, driver.find_element(By.ID, "disposition-submit"))
    assert "Give a code first" in text_of(driver, "disposition-error", "Give a code")
    fill(driver, "disposition-code", "Booked!")
    click(driver, driver.find_element(By.ID, "disposition-submit"))
    error = wait(driver).until(lambda d: d.find_element(By.ID, "disposition-error").get_attribute("data-code") or None)
    status, refused = desk.call("POST", f"/v1/calls/{call['id']}/dispositions", {"code": "Booked!"})
    assert status == 422 and error == refused["error"]["code"] == "invalid_code", refused
    assert driver.find_element(By.ID, "disposition-error").text == BAD_CODE
    assert driver.find_element(By.ID, "disposition-error").get_attribute("role") == "alert"
    assert sql(f"SELECT count(*) FROM agent.call_dispositions WHERE call_id = '{call['id']}'") == [["0"]]
    fill(driver, "disposition-code", "viewing_booked")
    fill(driver, "disposition-notes", "Saturday 10:00")
    click(driver, driver.find_element(By.ID, "disposition-submit"))
    text_of(driver, "call-line", "Disposition viewing_booked added")
    item = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#call-dispositions li[data-code="viewing_booked"]')))
    assert "Saturday 10:00" in item.text and not driver.find_element(By.ID, "disposition-error").text
    assert driver.find_element(By.ID, "disposition-code").get_attribute("value") == ""
    # the API and the database hold it, by this admin
    stored = desk.get(call["id"])["dispositions"]
    assert [(d["code"], d["notes"], d["actor"]) for d in stored] == [("viewing_booked", "Saturday 10:00", desk.admin["id"])]
    assert sql(f"SELECT code, notes, actor FROM agent.call_dispositions WHERE call_id = '{call['id']}'") == [
        ["viewing_booked", "Saturday 10:00", desk.admin["id"]]]

    # the lead's page: its calls, and the call in its timeline opens this page
    click(driver, driver.find_element(By.ID, "call-lead"))
    page_ready(driver, "leads/:id")
    link = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#lead-timeline li.lead-event-call a.lead-event-call")))
    assert link.get_attribute("href").endswith(f"#/calls/{call['id']}")
    assert driver.find_element(By.ID, "lead-calls").get_attribute("href").endswith(f"#/calls?lead={call['leadId']}")
    click(driver, link)
    page_ready(driver, "calls/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").get_attribute("data-id") == call["id"]
    go(driver, f"#/calls?lead={call['leadId']}", "calls")
    shows(driver, [call["id"]])
    assert driver.find_element(By.ID, "calls-lead").get_attribute("value") == phone


def test_a_call_without_recording_or_transcript_says_so(browser, base_url, desk):
    call = desk.report(reason="customer-did-not-answer", sentiment=None, summary="", messages=[], recording=False)
    assert call.get("recordingUrl") is None and call["transcriptLines"] == 0
    driver = browser("phone")
    calls_page(driver, base_url, desk, f"#/calls/{call['id']}", "calls/:id")
    assert driver.find_element(By.ID, "call-status").text == "No answer"
    assert driver.find_element(By.ID, "call-no-recording").is_displayed() and not driver.find_elements(By.ID, "call-audio")
    assert driver.find_element(By.ID, "call-sentiment").text == "Not given"
    assert driver.find_element(By.ID, "call-no-transcript").is_displayed()
    assert driver.find_element(By.ID, "call-summary").text == "The provider gave no summary."
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


# ---------- who sees what ----------

def test_another_tenant_sees_none_of_the_calls_and_an_agent_only_those_of_their_leads(browser, base_url, api, desk):
    mine = desk.report()
    other = desk.report()
    status, _ = desk.call("PUT", f"/v1/leads/{mine['leadId']}/assign", {"assigneeId": desk.agent["id"]})
    assert status == 200
    # the agent: the Calls page lists only the call of their lead, and no webhook settings
    driver = browser("desktop")
    calls_page(driver, base_url, desk, as_agent=True)
    shows(driver, [mine["id"]])
    assert not driver.find_elements(By.ID, "voice-settings")
    go(driver, f"#/calls/{other['id']}", "calls/:id")
    assert wait(driver).until(lambda d: d.find_element(By.ID, "call-error").text) == "There is no such call, or it is not yours to see."
    go(driver, f"#/calls/{mine['id']}", "calls/:id")
    assert driver.find_element(By.CSS_SELECTOR, "#main h1").get_attribute("data-id") == mine["id"]
    assert driver.find_elements(By.ID, "disposition-form")
    status, page = desk.call("GET", "/v1/calls", as_agent=True)
    assert [c["id"] for c in page["items"]] == [mine["id"]]

    # another tenant's admin: no call in the list, and the call's address says there is none
    stranger = Desk(api)
    driver = browser("desktop")
    calls_page(driver, base_url, stranger)
    shows(driver, [])
    assert "No call yet" in driver.find_element(By.ID, "calls-list").text
    go(driver, f"#/calls/{mine['id']}", "calls/:id")
    assert wait(driver).until(lambda d: d.find_element(By.ID, "call-error").text) == "There is no such call, or it is not yours to see."
    assert not driver.find_elements(By.ID, "call-transcript") and not page_holds(driver, SUMMARY)
