"""The messaging pages of the admin console in a real Chromium: a customer message simulated through the API shows in
the inbox with its unread count, its thread opens, a reply as a person gets its delivery tick, a new customer message
appears in the open thread without a reload (the live socket, or polling without it), escalate / hand back / close
change the conversation; a channel's secret is written once and afterwards only its hint is anywhere in the page; a
web chat channel shows the script tag to paste; a test send and binding an agent say what they did; quiet hours
saved survive a reload; an opt-out is listed masked and removed; the sandbox outbox shows a sent message and its form
plays the customer; analytics shows what the API counts; read-only staff see no control that writes, and the pages
fit a phone. Each test makes its own data through the API with unique numbers and names."""
import random
import re
import uuid
from datetime import datetime, timezone
from urllib.parse import quote

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from console import OWNER, READONLY, click, go, open_dialog, page_holds, page_ready, sign_in_as_readonly, submit_dialog, tenant_of, wait
from console import sign_in as console_sign_in

AGENT = "agent@demo.sokoni.local"
TICKS = {"queued": "○", "pending": "○", "sent": "✓", "delivered": "✓✓", "read": "✓✓"}


def sign_in(driver, base_url, api, email=OWNER, route="#/inbox", page=None):
    console_sign_in(driver, base_url, api, email=email, route=route, page=page)


# ---------- helpers ----------

def eventually(api, condition, seconds=30, message=""):
    """Waits for the platform (its jobs run in the background) until condition(api) is truthy, and returns that."""
    return WebDriverWait(api, seconds, poll_frequency=0.2).until(condition, message)


def rwanda_number():
    return "+25078" + "".join(random.choice("0123456789") for _ in range(7))


def uk_number():
    # no quiet hours for GB in the platform's defaults: a send to it goes out at any hour of the test run
    return "+4477009" + "".join(random.choice("0123456789") for _ in range(5))


def text_of(driver, selector):
    return re.sub(r"\s+", " ", driver.find_element(By.CSS_SELECTOR, selector).text).strip()


def sandbox_channel(api):
    """The demo tenant's first active sandbox channel (one is made when it has none)."""
    token = api.login(OWNER)
    status, page = api.call("GET", "/v1/channels?limit=200", token)
    assert status == 200, page
    found = [c for c in page["items"] if c["kind"] == "sandbox" and c["status"] == "active"]
    if found:
        return found[0]
    status, channel = api.call("POST", "/v1/channels", token, body={"kind": "sandbox", "name": "Test sandbox"},
                               headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, channel
    return channel


def new_sandbox_channel(api, name=None):
    status, channel = api.call("POST", "/v1/channels", api.login(OWNER),
                               body={"kind": "sandbox", "name": name or f"Sandbox {uuid.uuid4().hex[:6]}"},
                               headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, channel
    return channel


def simulate(api, text, sender=None, channel=None, name=None):
    """A customer message, as if the provider had delivered it; returns the sender's number."""
    sender = sender or rwanda_number()
    body = {"from": sender, "text": text, "channelId": (channel or sandbox_channel(api))["id"]}
    if name:
        body["profileName"] = name
    status, answer = api.call("POST", "/v1/sandbox/inbound", api.login(OWNER), body=body)
    assert status == 202, answer
    return sender


def conversation_with(api, number, status=None):
    """The conversation of this number once the inbound job has stored it (the newest one, with status if given)."""
    def found(a):
        code, page = a.call("GET", f"/v1/conversations?q={quote(number, safe='')}", a.login(OWNER))
        assert code == 200, page
        items = [c for c in page["items"] if c["contact"]["address"] == number and (status is None or c["status"] == status)]
        return items[0] if items else None
    return eventually(api, found, message=f"no conversation with {number}")


def messages_of(api, conversation_id):
    status, page = api.call("GET", f"/v1/conversations/{conversation_id}/messages?limit=200", api.login(OWNER))
    assert status == 200, page
    return page["items"]


def open_thread(driver, conversation_id):
    go(driver, f"#/inbox/{conversation_id}", "inbox/:id")
    return wait(driver).until(EC.visibility_of_element_located((By.ID, "messages")))


def thread_message(driver, text, direction):
    """The thread's message of that direction whose body is text, once it is there."""
    return wait(driver).until(lambda d: next((li for li in d.find_elements(By.CSS_SELECTOR, f'#messages li.msg[data-direction="{direction}"]')
                                              if li.find_element(By.CSS_SELECTOR, ".msg-body").text == text), None))


def today_utc():
    return datetime.now(timezone.utc).date().isoformat()


def no_write_controls(driver, route):
    assert driver.find_elements(By.CSS_SELECTOR, "[data-write]") == [], f"{route} shows a write control"
    for form in ("reply-form", "sim-form", "test-form", "optout-form", "settings-save", "quiet-add", "channel-create"):
        assert not driver.find_elements(By.ID, form), f"{route} shows #{form}"


# ---------- the inbox ----------

def test_a_simulated_customer_shows_in_the_inbox_and_a_reply_gets_its_tick(browser, base_url, api):
    name = f"Amani {uuid.uuid4().hex[:6]}"
    hello = f"Habari, is the shop open? {uuid.uuid4().hex[:6]}"
    number = simulate(api, hello, name=name)
    conversation = conversation_with(api, number)
    assert conversation["unreadCount"] >= 1
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/inbox", page="inbox")
    # the list, searched by the number: the conversation with its name, channel and unread count
    search = driver.find_element(By.ID, "inbox-q")
    search.send_keys(number)
    click(driver, driver.find_element(By.ID, "inbox-apply"))
    item = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'#conversations li[data-id="{conversation["id"]}"]')))
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#conversations li")) == 1)
    assert name in item.text and "Sandbox" in item.text and hello[:20] in item.text
    assert item.find_element(By.CSS_SELECTOR, ".unread-count").text.startswith(str(conversation["unreadCount"]))
    assert f"q={quote(number, safe='')}" in driver.execute_script("return location.hash")  # the search is in the address
    # opening it shows the thread in sequence order, and reading it clears the unread count
    click(driver, item.find_element(By.TAG_NAME, "a"))
    page_ready(driver, "inbox/:id")
    assert driver.find_element(By.ID, "thread-title").text == name
    inbound = thread_message(driver, hello, "inbound")
    assert inbound.find_element(By.CSS_SELECTOR, ".msg-sender").text == name
    seqs = [int(li.get_attribute("data-seq")) for li in driver.find_elements(By.CSS_SELECTOR, "#messages li.msg")]
    assert seqs == sorted(seqs) and seqs[0] == 1
    eventually(api, lambda a: conversation_with(a, number)["unreadCount"] == 0, message="opening the thread did not mark it read")
    # a reply as a person: queued, then sent by the sandbox, with its tick
    reply = f"Yes, until 20:00. {uuid.uuid4().hex[:6]}"
    driver.find_element(By.ID, "reply-text").send_keys(reply)
    click(driver, driver.find_element(By.ID, "reply-send"))
    wait(driver).until(lambda d: "Reply queued" in text_of(d, "#thread-status"))
    assert driver.find_element(By.ID, "reply-text").get_attribute("value") == ""
    outbound = thread_message(driver, reply, "outbound")
    wait(driver, 30).until(lambda d: thread_message(d, reply, "outbound").get_attribute("data-status") in ("sent", "delivered", "read"))
    outbound = thread_message(driver, reply, "outbound")
    tick = outbound.find_element(By.CSS_SELECTOR, ".tick")
    status = tick.get_attribute("data-status")
    assert tick.find_element(By.CSS_SELECTOR, "[aria-hidden=true]").text == TICKS[status]
    assert tick.get_attribute("title") in ("Sent", "Delivered", "Read")
    assert outbound.find_element(By.CSS_SELECTOR, ".msg-sender").text == "Staff"
    stored = next(m for m in messages_of(api, conversation["id"]) if m["body"] == reply)
    assert stored["direction"] == "outbound" and stored["sender"] == "human" and stored["status"] == status


def test_a_new_customer_message_appears_in_the_open_thread_without_a_reload(browser, base_url, api):
    first = f"First message {uuid.uuid4().hex[:6]}"
    number = simulate(api, first)
    conversation = conversation_with(api, number)
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/inbox/{conversation['id']}", page="inbox/:id")
    thread_message(driver, first, "inbound")
    driver.execute_script("window.__sameDocument = true")
    second = f"Second message {uuid.uuid4().hex[:6]}"
    simulate(api, second, sender=number)
    # pushed by the live socket or, without one, found by the page's polling: no reload either way
    thread_message(driver, second, "inbound")
    assert driver.execute_script("return window.__sameDocument === true")
    # the list beside the thread shows it too
    wait(driver).until(lambda d: second[:20] in d.find_element(By.CSS_SELECTOR, f'#conversations li[data-id="{conversation["id"]}"]').text)


def test_the_inbox_listens_on_the_live_socket(browser, base_url, api):
    """The console authenticates the socket with the session's access token (lib/live.js). Needs the server's
    /v1/messaging/live and an `accessToken` getter on Session (Web/shared/session.js); without them the page polls."""
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/inbox", page="inbox")
    page = driver.find_element(By.CSS_SELECTOR, '#main .page[data-page="inbox"]')
    state = wait(driver).until(lambda d: page.get_attribute("data-live") not in (None, "", "connecting") and page.get_attribute("data-live"))
    token_available = driver.execute_script("return import('/assets/shared/session.js').then((m) => 'accessToken' in m.Session.prototype)")
    assert state == "live", (f"the inbox is '{state}', not on the live socket"
                             + ("" if token_available else " (Session has no accessToken getter: Web/shared/session.js)"))
    assert "Live" in driver.find_element(By.ID, "live-state").text


def test_the_live_module_speaks_the_socket_protocol(browser, base_url, api):
    """lib/live.js against the server's /v1/messaging/live, with a token from the API (the page's own Session keeps
    its token private): `ready` after the auth frame, then a `message` frame naming a new customer message; platform
    staff name the tenant in the auth frame."""
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/inbox", page="inbox")
    start = """
        const [token, tenantId, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
        import('/assets/admin/lib/live.js').then(({ openLive }) => {
          const seen = { frames: [], states: [] };
          window.__live = window.__live || [];
          window.__live.push(seen);
          openLive({ session: { accessToken: token, can: () => true }, tenantId,
            onEvent: (frame) => seen.frames.push(frame), onState: (state) => seen.states.push(state) });
          done(window.__live.length - 1);
        }, (error) => done(String(error)));"""
    mine = driver.execute_async_script(start, api.login(OWNER), None)
    staff = driver.execute_async_script(start, api.login(READONLY), tenant_of(api))
    seen = lambda d, i: d.execute_script("return window.__live[arguments[0]]", i)  # noqa: E731
    wait(driver).until(lambda d: "live" in seen(d, mine)["states"], "the tenant admin's socket never said ready")
    wait(driver).until(lambda d: "live" in seen(d, staff)["states"], "the staff member's socket never said ready")
    number = simulate(api, f"Live frame {uuid.uuid4().hex[:6]}")
    conversation = conversation_with(api, number)
    for who in (mine, staff):
        frame = wait(driver).until(lambda d: next((f for f in seen(d, who)["frames"] if f.get("type") == "message"
                                                   and f.get("conversationId") == conversation["id"]), None))
        assert frame["direction"] == "inbound" and frame["messageId"] and frame["sequenceNo"] == 1, frame


def test_escalate_hand_back_and_close_a_conversation(browser, base_url, api):
    number = simulate(api, f"I need a person {uuid.uuid4().hex[:6]}")
    conversation = conversation_with(api, number)
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/inbox/{conversation['id']}", page="inbox/:id")

    def stored_status(a):
        status, body = a.call("GET", f"/v1/conversations/{conversation['id']}", a.login(OWNER))
        assert status == 200, body
        return body["status"]

    wait(driver).until(EC.element_to_be_clickable((By.ID, "conv-escalate"))).click()
    wait(driver).until(EC.element_to_be_clickable((By.ID, "conv-handback")))
    assert "took over" in text_of(driver, "#thread-status")
    assert "With a person" in text_of(driver, "#thread-state")
    assert stored_status(api) == "human_escalated"
    click(driver, driver.find_element(By.ID, "conv-handback"))
    wait(driver).until(EC.element_to_be_clickable((By.ID, "conv-escalate")))
    assert stored_status(api) == "ai_active"
    click(driver, driver.find_element(By.ID, "conv-close"))
    open_dialog(driver)
    submit_dialog(driver)
    wait(driver).until(EC.visibility_of_element_located((By.ID, "thread-closed")))
    assert stored_status(api) == "closed"
    assert not driver.find_element(By.ID, "reply-form").is_displayed()
    assert not driver.find_elements(By.ID, "conv-close")
    # the status filter finds it among the closed ones
    Select(driver.find_element(By.ID, "inbox-status")).select_by_value("closed")
    wait(driver).until(lambda d: "status=closed" in d.execute_script("return location.hash"))
    listed = "return [...document.querySelectorAll('#conversations li')].map((li) => [li.dataset.id, li.dataset.status])"
    wait(driver).until(lambda d: (rows := d.execute_script(listed)) and {status for _, status in rows} == {"closed"}
                       and conversation["id"] in {id for id, _ in rows})


# ---------- channels ----------

def test_a_channel_secret_is_written_once_and_then_only_its_hint_is_shown(browser, base_url, api):
    secret = "tw" + uuid.uuid4().hex + "Q9zX"
    name = f"Test SMS {uuid.uuid4().hex[:6]}"
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/channels", page="channels")
    click(driver, driver.find_element(By.ID, "channel-create"))
    open_dialog(driver)
    Select(driver.find_element(By.ID, "channel-kind")).select_by_value("sms")
    secret_field = wait(driver).until(EC.visibility_of_element_located((By.ID, "secret-authToken")))
    assert secret_field.get_attribute("type") == "password" and secret_field.get_attribute("value") == ""
    driver.find_element(By.ID, "channel-name").send_keys(name)
    driver.find_element(By.ID, "channel-accountSid").send_keys("AC" + uuid.uuid4().hex)
    driver.find_element(By.ID, "channel-fromNumber").send_keys(uk_number())
    secret_field.send_keys(secret)
    submit_dialog(driver)
    channel_id = None
    try:
        page_ready(driver, "channels/:id")
        channel_id = driver.execute_script("return location.hash").split("/")[2].split("?")[0]
        assert driver.find_element(By.CSS_SELECTOR, "#main h1").text == name
        assert "created" in text_of(driver, "#channel-status")
        # the hint, and nothing else of the secret, anywhere in the document
        hint = driver.find_element(By.CSS_SELECTOR, '#channel-secrets [data-secret="authToken"] dd').text
        assert hint == "••••" + secret[-4:]
        assert not page_holds(driver, secret) and secret not in driver.page_source
        assert not page_holds(driver, secret[:12])
        # the API agrees, and never returns it
        status, channel = api.call("GET", f"/v1/channels/{channel_id}", api.login(OWNER))
        assert status == 200 and channel["secretHints"]["authToken"] == hint and secret not in str(channel)
        # where to paste the webhook URL
        assert driver.find_element(By.ID, "webhook-url").get_attribute("value") == channel["webhookUrl"]
        assert "Twilio" in driver.find_element(By.ID, "webhook-where").text
        assert driver.find_element(By.ID, "webhook-url-copy").is_displayed()
        # editing starts from an empty secret field that says the secret is kept
        click(driver, driver.find_element(By.ID, "channel-edit"))
        dialog = open_dialog(driver)
        assert driver.find_element(By.ID, "secret-authToken").get_attribute("value") == ""
        assert hint in dialog.text and "keep" in dialog.text
        driver.find_element(By.CSS_SELECTOR, "dialog[open] .dialog-actions button[value=cancel]").click()
        wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))
        # after a reload (the session comes back from the cookie) it is not there either
        driver.refresh()
        page_ready(driver, "channels/:id")
        assert not page_holds(driver, secret)
    finally:
        # an active SMS channel would become the tenant's default for notifications: disable it again
        if channel_id:
            api.call("PATCH", f"/v1/channels/{channel_id}", api.login(OWNER), body={"status": "disabled"})


def test_a_web_chat_channel_shows_the_script_tag_to_paste(browser, base_url, api):
    name = f"Shop chat {uuid.uuid4().hex[:6]}"
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/channels", page="channels")
    click(driver, driver.find_element(By.ID, "channel-create"))
    open_dialog(driver)
    Select(driver.find_element(By.ID, "channel-kind")).select_by_value("webchat")
    origins = wait(driver).until(EC.visibility_of_element_located((By.ID, "channel-allowedOrigins")))
    assert not driver.find_elements(By.CSS_SELECTOR, "dialog[open] input[type=password]")  # web chat has no secrets
    driver.find_element(By.ID, "channel-name").send_keys(name)
    origins.send_keys("https://shop.example")
    submit_dialog(driver)
    page_ready(driver, "channels/:id")
    channel_id = driver.execute_script("return location.hash").split("/")[2].split("?")[0]
    status, channel = api.call("GET", f"/v1/channels/{channel_id}", api.login(OWNER))
    assert status == 200 and channel["kind"] == "webchat" and channel["config"]["allowedOrigins"] == ["https://shop.example"]
    tag = driver.find_element(By.ID, "webchat-snippet").get_attribute("value")
    origin = driver.execute_script("return location.origin")
    assert tag == f'<script src="{origin}/webchat/widget.js" data-channel="{channel["publicId"]}" async></script>'
    assert "https://shop.example" in driver.find_element(By.ID, "main").text
    assert driver.find_element(By.ID, "webchat-snippet-copy").is_displayed()
    assert not driver.find_elements(By.ID, "test-form")  # a web chat visitor has no address to send a test to


def test_a_test_send_shows_its_message_and_binding_an_agent_says_what_it_archived(browser, base_url, api):
    channel = new_sandbox_channel(api)
    number = simulate(api, f"Before the relink {uuid.uuid4().hex[:6]}", channel=channel)
    conversation = conversation_with(api, number)
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/channels/{channel['id']}", page="channels/:id")
    assert "sandbox" in driver.find_element(By.ID, "main").text.lower()
    # a test send: the message it made, and its status as it leaves the queue
    text = f"Test send {uuid.uuid4().hex[:6]}"
    driver.find_element(By.ID, "test-to").send_keys(uk_number())
    driver.find_element(By.ID, "test-text").send_keys(text)
    click(driver, driver.find_element(By.ID, "test-send"))
    result = wait(driver, 30).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '#test-result .test-message[data-status="sent"]')))
    assert text in result.text and "Sent" in result.text
    assert result.find_element(By.CSS_SELECTOR, ".tick").get_attribute("data-status") == "sent"
    # binding an agent archives the open conversation and says how many; the tenant's agents are picked by name
    # (a draft, so it answers nobody)
    status, made = api.call("POST", "/v1/agents", api.login(OWNER), body={"name": f"Relink agent {uuid.uuid4().hex[:6]}", "kind": "support",
                                                                         "status": "draft"})
    assert status == 201, made
    agent = made["id"]
    click(driver, driver.find_element(By.ID, "channel-bind"))
    open_dialog(driver)
    picker = Select(driver.find_element(By.ID, "bind-agent"))
    assert f"{made['name']} (draft)" in [o.text for o in picker.options]
    picker.select_by_value(agent)
    driver.find_element(By.ID, "bind-reason").send_keys("new agent for the test")
    submit_dialog(driver)
    wait(driver).until(lambda d: "archived" in text_of(d, "#channel-status"))
    archived = int(re.search(r"(\d+) open conversations", text_of(driver, "#channel-status")).group(1))
    assert archived >= 2  # the customer's conversation and the test send's
    assert driver.find_element(By.ID, "channel-agent-id").text == agent
    status, stored = api.call("GET", f"/v1/conversations/{conversation['id']}", api.login(OWNER))
    assert status == 200 and stored["status"] == "closed"


# ---------- settings and opt-outs ----------

def test_quiet_hours_for_rwanda_are_saved_and_still_there_after_a_reload(browser, base_url, api):
    token = api.login(OWNER)
    status, original = api.call("GET", "/v1/messaging/settings", token)
    assert status == 200, original
    driver = browser("desktop")
    try:
        sign_in(driver, base_url, api, route="#/messaging-settings", page="messaging-settings")
        for row in driver.find_elements(By.CSS_SELECTOR, '#quiet-rows tr[data-country="RW"]'):
            click(driver, row.find_element(By.CSS_SELECTOR, ".quiet-remove"))
        assert not driver.find_elements(By.CSS_SELECTOR, '#quiet-rows tr[data-country="RW"]')
        click(driver, driver.find_element(By.ID, "quiet-add"))
        row = driver.find_elements(By.CSS_SELECTOR, "#quiet-rows tr")[-1]
        country = row.find_element(By.CSS_SELECTOR, ".quiet-country")
        assert driver.switch_to.active_element == country
        country.send_keys("rw")
        assert country.get_attribute("value") == "RW"
        # time inputs take what the locale shows; set the values the way a picker does
        driver.execute_script("""
            const [row] = [...document.querySelectorAll('#quiet-rows tr')].slice(-1);
            for (const [cls, value] of [['.quiet-start', '21:30'], ['.quiet-end', '05:45']]) {
              const input = row.querySelector(cls);
              input.value = value;
              input.dispatchEvent(new Event('input', { bubbles: true }));
              input.dispatchEvent(new Event('change', { bubbles: true }));
            }""")
        click(driver, driver.find_element(By.ID, "settings-save"))
        wait(driver).until(lambda d: "saved" in text_of(d, "#settings-status"))
        status, saved = api.call("GET", "/v1/messaging/settings", token)
        assert saved["quietHours"]["RW"] == {"start": "21:30", "end": "05:45"}
        # the rest of the document is what it was
        assert saved["sendThrottle"] == original["sendThrottle"] and saved["optOutKeywords"] == original["optOutKeywords"]
        assert {k: v for k, v in saved["quietHours"].items() if k != "RW"} == {k: v for k, v in original["quietHours"].items() if k != "RW"}
        driver.refresh()
        page_ready(driver, "messaging-settings")
        row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#quiet-rows tr[data-country="RW"]')))
        assert row.find_element(By.CSS_SELECTOR, ".quiet-start").get_attribute("value") == "21:30"
        assert row.find_element(By.CSS_SELECTOR, ".quiet-end").get_attribute("value") == "05:45"
        # a country twice is refused on the spot, and nothing is saved
        click(driver, driver.find_element(By.ID, "quiet-add"))
        driver.switch_to.active_element.send_keys("RW")
        click(driver, driver.find_element(By.ID, "settings-save"))
        wait(driver).until(lambda d: "twice" in d.find_element(By.ID, "settings-error").text)
    finally:
        api.call("PUT", "/v1/messaging/settings", token, body=original)


def test_an_opt_out_is_listed_masked_and_can_be_removed(browser, base_url, api):
    number = rwanda_number()
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/messaging-settings", page="messaging-settings")
    driver.find_element(By.ID, "optout-address").send_keys(number[:4] + " " + number[4:7] + " " + number[7:])
    click(driver, driver.find_element(By.ID, "optout-add"))
    wait(driver).until(lambda d: "added to the list" in text_of(d, "#optouts-status"))
    # the API has it (adding again answers 200 with the same entry)
    status, entry = api.call("POST", "/v1/opt-outs", api.login(OWNER), body={"address": number})
    assert status == 200, entry
    row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#optouts-list tr[data-id="{entry["hash"]}"]')))
    assert entry["masked"] in row.text and "Added by staff" in row.text
    assert driver.find_element(By.CSS_SELECTOR, "#optouts-list tbody tr").get_attribute("data-id") == entry["hash"]  # newest first
    assert not page_holds(driver, number) and not page_holds(driver, number[1:])
    # the CSV export: a file to download, of what the API exports (the entry masked, never the number)
    click(driver, driver.find_element(By.ID, "optout-export"))
    wait(driver).until(lambda d: "exported" in text_of(d, "#optouts-status"))
    download = driver.find_element(By.ID, "optout-download")
    assert download.get_attribute("href").startswith("blob:") and download.get_attribute("download") == "opt-outs.csv"
    status, csv = api.call("GET", "/v1/opt-outs", api.login(OWNER), headers={"Accept": "text/csv"})
    assert status == 200 and csv.startswith("hash,masked,source")
    assert f'{entry["hash"]},{entry["masked"]},api' in csv and number not in csv
    # removed from the page: gone from the list
    click(driver, row.find_element(By.CSS_SELECTOR, "button.optout-remove"))
    open_dialog(driver)
    submit_dialog(driver)
    wait(driver).until(lambda d: "removed" in text_of(d, "#optouts-status"))
    assert not driver.find_elements(By.CSS_SELECTOR, f'#optouts-list tr[data-id="{entry["hash"]}"]')
    status, _ = api.call("DELETE", f"/v1/opt-outs/{entry['hash']}", api.login(OWNER))
    assert status == 404


# ---------- sandbox and analytics ----------

def test_the_sandbox_outbox_shows_a_sent_message_and_its_form_plays_the_customer(browser, base_url, api):
    channel = sandbox_channel(api)
    text = f"Your order is ready {uuid.uuid4().hex[:6]}"
    to = uk_number()
    status, receipt = api.call("POST", "/v1/messages", api.login(OWNER), body={"channelId": channel["id"], "to": to, "text": text},
                               headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 202, receipt
    eventually(api, lambda a: a.call("GET", f"/v1/messages/{receipt['id']}", a.login(OWNER))[1]["status"] == "sent", message="never sent")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/sandbox", page="sandbox")
    row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#outbox-list .outbox-body[data-message="{receipt["id"]}"]')))
    assert row.text == text
    line = row.find_element(By.XPATH, "./ancestor::tr")
    assert to in line.text and channel["name"] in line.text
    # filtered by its channel it is still there
    Select(driver.find_element(By.ID, "outbox-channel")).select_by_value(channel["id"])
    wait(driver).until(lambda d: f"channelId={channel['id']}" in d.execute_script("return location.hash"))
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#outbox-list .outbox-body[data-message="{receipt["id"]}"]'))
    # playing the customer: the message lands in a conversation
    number = rwanda_number()
    said = f"Nataka kununua {uuid.uuid4().hex[:6]}"
    driver.find_element(By.ID, "sim-from").clear()
    driver.find_element(By.ID, "sim-from").send_keys(number)
    driver.find_element(By.ID, "sim-text").send_keys(said)
    click(driver, driver.find_element(By.ID, "sim-send"))
    wait(driver).until(lambda d: "received" in text_of(d, "#sim-status"))
    conversation = conversation_with(api, number)
    assert any(m["body"] == said and m["direction"] == "inbound" for m in messages_of(api, conversation["id"]))
    click(driver, driver.find_element(By.ID, "sim-inbox"))
    page_ready(driver, "inbox")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#conversations li[data-id="{conversation["id"]}"]'))


def test_messaging_analytics_shows_what_the_api_counts(browser, base_url, api):
    token = api.login(OWNER)
    day = today_utc()

    def analytics(a):
        status, body = a.call("GET", f"/v1/messaging/analytics?from={day}&to={day}", a.login(OWNER))
        assert status == 200, body
        return body

    before = analytics(api)["totals"]["inbound"]
    channel = sandbox_channel(api)
    for _ in range(2):
        simulate(api, f"Counting {uuid.uuid4().hex[:6]}", channel=channel)
    eventually(api, lambda a: analytics(a)["totals"]["inbound"] >= before + 2, message="the inbound messages were not counted")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/messaging-analytics", page="messaging-analytics")
    # the default range is the last 30 UTC days
    start = driver.find_element(By.ID, "analytics-from").get_attribute("value")
    end = driver.find_element(By.ID, "analytics-to").get_attribute("value")
    assert end == day and (datetime.fromisoformat(end) - datetime.fromisoformat(start)).days == 29
    status, expected = api.call("GET", f"/v1/messaging/analytics?from={start}&to={end}", token)
    assert status == 200, expected
    shown = driver.find_element(By.CSS_SELECTOR, '#analytics-totals [data-total="inbound"]').get_attribute("data-value")
    assert int(shown) == expected["totals"]["inbound"] >= before + 2
    # today's inbound bar is the API's inbound count for today
    bars = driver.execute_script("""
        return [...document.querySelectorAll('#analytics-chart svg rect.bar')].map((b) => ({
          day: b.dataset.day, series: b.dataset.series, value: Number(b.dataset.value) }));""")
    drawn = {(b["day"], b["series"]): b["value"] for b in bars}
    for direction in ("inbound", "outbound"):
        counted = sum(r["count"] for r in expected["days"] if r["day"] == day and r["direction"] == direction)
        assert drawn.get((day, direction), 0) == counted, direction
    # the table by channel and status has the sandbox's received messages
    table = driver.find_element(By.ID, "analytics-by-status").text
    received = sum(r["count"] for r in expected["days"] if r["channelKind"] == "sandbox" and r["direction"] == "inbound" and r["status"] == "received")
    assert re.search(rf"Sandbox\s+Received\s+Received\s+{received:,}", table), table


# ---------- who sees what ----------

def test_readonly_staff_see_the_messaging_pages_without_any_write_control(browser, base_url, api):
    number = simulate(api, f"Read me only {uuid.uuid4().hex[:6]}")
    conversation = conversation_with(api, number)
    channel = sandbox_channel(api)
    driver = browser("desktop")
    sign_in_as_readonly(driver, base_url, api, "#/inbox")
    page_ready(driver, "inbox")
    menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert {"inbox", "channels", "sandbox", "messaging-settings", "messaging-analytics"} <= set(menu), menu
    for route, page in (("#/inbox", "inbox"), (f"#/inbox/{conversation['id']}", "inbox/:id"), ("#/channels", "channels"),
                        (f"#/channels/{channel['id']}", "channels/:id"), ("#/sandbox", "sandbox"),
                        ("#/messaging-settings", "messaging-settings"), ("#/messaging-analytics", "messaging-analytics")):
        go(driver, route, page)
        no_write_controls(driver, route)
    # what they see is real: the thread, and the settings (unchangeable); the opt-out list is for managers only
    go(driver, f"#/inbox/{conversation['id']}", "inbox/:id")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#messages li.msg"))
    assert not driver.find_elements(By.ID, "conv-close") and not driver.find_elements(By.ID, "reply-text")
    go(driver, "#/messaging-settings", "messaging-settings")
    assert driver.find_elements(By.CSS_SELECTOR, "#quiet-rows tr")
    assert all(not i.is_enabled() for i in driver.find_elements(By.CSS_SELECTOR, "#settings-form input, #settings-form textarea"))
    assert not driver.find_elements(By.ID, "optouts-list")
    # and the API refuses their writes whatever the page shows
    token = api.login(READONLY)
    headers = {"X-Tenant-ID": tenant_of(api), "Idempotency-Key": str(uuid.uuid4())}
    for method, path, body in (("POST", "/v1/messages", {"conversationId": conversation["id"], "text": "x"}),
                               ("PATCH", f"/v1/conversations/{conversation['id']}", {"status": "closed"}),
                               ("POST", "/v1/sandbox/inbound", {"from": rwanda_number(), "text": "x"}),
                               ("POST", "/v1/channels", {"kind": "sandbox", "name": "x"})):
        status, answer = api.call(method, path, token, body=body, headers=headers)
        assert status == 403, f"{method} {path} as readonly: {status} {answer}"


def test_an_agent_answers_customers_but_does_not_manage_channels(browser, base_url, api):
    hello = f"Agent please {uuid.uuid4().hex[:6]}"
    number = simulate(api, hello)
    conversation = conversation_with(api, number)
    driver = browser("desktop")
    sign_in(driver, base_url, api, email=AGENT, route=f"#/inbox/{conversation['id']}", page="inbox/:id")
    thread_message(driver, hello, "inbound")
    menu = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert "inbox" in menu and "channels" not in menu and "messaging-settings" not in menu, menu
    assert driver.find_element(By.ID, "reply-text").is_displayed() and driver.find_element(By.ID, "conv-escalate").is_displayed()
    assert not driver.find_element(By.ID, "inbox-channel").is_displayed()  # agents cannot list channels: no channel filter


def test_the_messaging_pages_fit_a_phone(browser, base_url, api):
    number = simulate(api, f"On a phone {uuid.uuid4().hex[:6]}")
    conversation = conversation_with(api, number)
    channel = sandbox_channel(api)
    driver = browser("phone")
    sign_in(driver, base_url, api, route="#/inbox", page="inbox")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    for route, page in (("#/inbox", "inbox"), (f"#/inbox/{conversation['id']}", "inbox/:id"), ("#/channels", "channels"),
                        (f"#/channels/{channel['id']}", "channels/:id"), ("#/sandbox", "sandbox"),
                        ("#/messaging-settings", "messaging-settings"), ("#/messaging-analytics", "messaging-analytics")):
        go(driver, route, page)
        wide = driver.execute_script("""
            const limit = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')].filter((e) => !e.closest('thead, .visually-hidden'))
              .filter((e) => e.getBoundingClientRect().right > limit + 1)
              .slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className);""")
        assert wide == [], f"{route} is wider than 360 px: {wide}"
        shown = driver.find_element(By.ID, "main").text
        assert not re.search(r"\bnull\b|\bundefined\b|\[object ", shown), f"{route} shows: {shown}"
    # on a phone the open thread replaces the list, with a way back to it
    go(driver, f"#/inbox/{conversation['id']}", "inbox/:id")
    assert driver.find_element(By.ID, "messages").is_displayed()
    assert not driver.find_element(By.ID, "conversations").is_displayed()
    click(driver, driver.find_element(By.ID, "inbox-back"))
    page_ready(driver, "inbox")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "conversations")))
