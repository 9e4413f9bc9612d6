"""The web-chat widget as a business's customer meets it: a page on another origin with the one script tag, a
real Chromium, the gateway's socket relay and messaging behind it. A dropped connection and a reload lose and
repeat nothing."""
import http.server
import threading
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

OWNER = "owner@demo.sokoni.local"


@pytest.fixture
def shop():
    """A business's own site on loopback: another origin than the gateway's. Yields (origin, set_page)."""
    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  (the standard library's name)
            body = pages.get(self.path.split("?")[0], "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", pages
    server.shutdown()


def webchat_channel(api, allowed_origins):
    status, channel = api.call("POST", "/v1/channels", api.login(OWNER), body={
        "kind": "webchat", "name": f"Site chat {uuid.uuid4().hex[:6]}", "config": {"allowedOrigins": allowed_origins}})
    assert status == 201, f"{status} {channel}"
    return channel


def page(base_url, channel):
    return (f'<!doctype html><html lang="rw"><head><meta charset="utf-8"><title>Duka</title></head><body><h1>Duka ryacu</h1>'
            f'<script src="{base_url}/webchat/widget.js" data-channel="{channel["publicId"]}" data-open="true" async></script>'
            f'</body></html>')


def widget(driver):
    return driver.find_element(By.CSS_SELECTOR, "sokoni-webchat")


def connected(driver, seconds=15):
    WebDriverWait(driver, seconds).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "sokoni-webchat[data-connected='true']"))


def bubbles(driver):
    """(direction, text, sequence number) of every message shown, top to bottom."""
    items = widget(driver).shadow_root.find_elements(By.CSS_SELECTOR, "li")
    return [(("inbound" if "inbound" in item.get_attribute("class") else "outbound"), item.text,
             item.get_attribute("data-sequence")) for item in items]


def wait_for_texts(driver, texts, seconds=15):
    WebDriverWait(driver, seconds).until(lambda d: all(any(b[1] == text and b[2] for b in bubbles(d)) for text in texts),
                                         f"waiting for {texts}; shown: {bubbles(driver)}")


def say(driver, text):
    root = widget(driver).shadow_root
    field = root.find_element(By.CSS_SELECTOR, ".compose input")
    field.send_keys(text)
    root.find_element(By.CSS_SELECTOR, ".compose button").click()


def conversation_of(api, channel):
    status, page_ = api.call("GET", f"/v1/conversations?channelId={channel['id']}", api.login(OWNER))
    assert status == 200 and page_["items"], f"{status} {page_}"
    return page_["items"][0]["id"]


def staff_says(api, conversation, text):
    status, body = api.call("POST", "/v1/messages", api.login(OWNER), body={"conversationId": conversation, "text": text},
                            headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 202, f"{status} {body}"


def test_a_dropped_connection_and_a_reload_lose_and_repeat_nothing(browser, base_url, api, shop, sql):
    origin, pages = shop
    channel = webchat_channel(api, [origin])
    pages["/"] = page(base_url, channel)
    driver = browser("phone")
    driver.get(origin + "/")
    connected(driver)
    # the page said lang="rw": the widget speaks Kinyarwanda
    assert widget(driver).shadow_root.find_element(By.CSS_SELECTOR, ".compose button").text == "Ohereza"

    say(driver, "Muraho, mufite lisansi?")
    wait_for_texts(driver, ["Muraho, mufite lisansi?"])
    conversation = conversation_of(api, channel)
    staff_says(api, conversation, "Yego, turayifite.")
    wait_for_texts(driver, ["Yego, turayifite."])

    # the connection drops; meanwhile the shop answers twice and the customer types on
    driver.execute_script("window.SokoniChat.disconnect()")
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "sokoni-webchat[data-connected='false']"))
    staff_says(api, conversation, "Igiciro ni 1,600 RWF kuri litiro.")
    staff_says(api, conversation, "Murakoze!")
    say(driver, "Ndacyahari")
    driver.execute_script("window.SokoniChat.connect()")
    connected(driver)
    expected = ["Muraho, mufite lisansi?", "Yego, turayifite.", "Igiciro ni 1,600 RWF kuri litiro.", "Murakoze!", "Ndacyahari"]
    wait_for_texts(driver, expected)
    shown = bubbles(driver)
    assert [text for _, text, _ in shown] == expected, shown
    assert [int(sequence) for _, _, sequence in shown] == [1, 2, 3, 4, 5], shown
    assert [direction for direction, _, _ in shown] == ["inbound", "outbound", "outbound", "outbound", "inbound"], shown

    # a reload keeps the visitor (the token in localStorage) and shows the same chat once
    driver.refresh()
    connected(driver)
    wait_for_texts(driver, expected)
    assert bubbles(driver) == shown
    rows = sql(f"SELECT count(*) FROM messaging.messages WHERE conversation_id = '{conversation}' AND direction = 'inbound'")
    assert rows == [["2"]]
    # the token is the visitor's only proof, and only its hash is stored
    token = driver.execute_script(f"return JSON.parse(localStorage.getItem('sokoni.webchat.{channel['publicId']}')).token")
    assert len(token) >= 40
    assert sql(f"SELECT count(*) FROM messaging.webchat_visitors WHERE channel_id = '{channel['id']}'") == [["1"]]
    assert token not in str(sql(f"SELECT encode(token_hash, 'escape') FROM messaging.webchat_visitors WHERE channel_id = '{channel['id']}'"))


def test_a_site_the_channel_does_not_allow_gets_no_chat(browser, base_url, api, shop, sql):
    origin, pages = shop
    channel = webchat_channel(api, ["https://the-real-shop.example"])
    pages["/"] = page(base_url, channel)
    driver = browser("desktop")
    driver.get(origin + "/")
    status = lambda d: widget(d).shadow_root.find_element(By.CSS_SELECTOR, ".status").text  # noqa: E731
    WebDriverWait(driver, 15).until(lambda d: "may not open" in status(d), "the refusal is shown")
    assert not driver.find_elements(By.CSS_SELECTOR, "sokoni-webchat[data-connected='true']")
    assert sql(f"SELECT count(*) FROM messaging.webchat_visitors WHERE channel_id = '{channel['id']}'") == [["0"]]


def test_the_agents_choices_are_buttons_and_a_tap_answers_them(browser, base_url, api, shop):
    """A live agent greets with its choices as buttons under its message; tapping one sends its words, the buttons
    go, and the agent answers it (here: a person is asked for, in Kinyarwanda)."""
    origin, pages = shop
    owner = api.login(OWNER)
    status, agent = api.call("POST", "/v1/agents", owner, body={"name": f"Chat helper {uuid.uuid4().hex[:6]}", "kind": "support",
                                                                "languages": ["rw", "en"], "status": "active"})
    assert status == 201, agent
    try:
        channel = webchat_channel(api, [origin])
        pages["/"] = page(base_url, channel)
        driver = browser("phone")
        driver.get(origin + "/")
        connected(driver)
        say(driver, "Muraho")
        root = widget(driver).shadow_root
        buttons = WebDriverWait(driver, 20).until(lambda d: root.find_elements(By.CSS_SELECTOR, ".choices button"), f"no choices; shown: {bubbles(driver)}")
        person = next(b for b in buttons if b.get_attribute("data-option") == "handoff")
        assert person.text == "Vugana n'umuntu"
        assert any(b.get_attribute("data-option").startswith("faq:") for b in buttons), [b.text for b in buttons]
        person.click()
        assert not root.find_elements(By.CSS_SELECTOR, ".choices")
        wait_for_texts(driver, ["Vugana n'umuntu", "Yego, ngiye kuguhuza n'umukozi wacu. Arakusubiza vuba."], seconds=20)
        conversation_id = conversation_of(api, channel)
        status, conversation = api.call("GET", f"/v1/conversations/{conversation_id}", owner)
        assert status == 200 and conversation["status"] == "human_escalated", conversation
        # the tap went with the choice's id, and the agent's choices are stored with its message
        status, thread = api.call("GET", f"/v1/conversations/{conversation_id}/messages", owner)
        assert status == 200, thread
        greeting, tap = thread["items"][1], thread["items"][2]
        assert [o["id"] for o in greeting["payload"]["options"]][-1] == "handoff", greeting
        assert tap["kind"] == "button" and tap["payload"]["payload"] == "handoff", tap
    finally:
        status, body = api.call("PATCH", f"/v1/agents/{agent['id']}", owner, body={"status": "archived"})
        assert status == 200, body
