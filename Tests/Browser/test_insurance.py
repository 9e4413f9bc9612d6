"""The Insurance pages of the admin console in a real Chromium, against marketplace-wallet's insurance quotes. A quote
is created in the page for a customer by phone, a real small PDF and PNG are uploaded through the page's file input
(the PNG is then shown in the page, each opens by its signed link without a token, byte for byte), a text file is
refused in plain words and changes nothing; the quote is approved with its premium and moves from the pending queue
to the approved one. Asking for changes needs a comment, which the page then shows, and the quote is resubmitted.
Read-only staff see the queue and the documents with no control that writes; a 360-pixel phone scrolls nothing
sideways."""
import random
import struct
import urllib.request
import uuid
import zlib

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from console import OWNER, READONLY, click, go, open_dialog, page_ready, sign_in, submit_dialog, tenant_of, wait

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def png(width=4, height=3):
    """A real PNG: red pixels, width × height."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def phone():
    return "+2547" + "".join(random.choice("0123456789") for _ in range(8))


# ---------- the API ----------

def call(api, method, path, body=None, as_user=OWNER):
    return api.call(method, path, api.login(as_user), body=body, headers={"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else None)


def new_quote(api, name, **fields):
    status, quote = call(api, "POST", "/v1/insurance-quotes", {
        "customerPhone": phone(), "customerName": name, "insurer": "Jubilee", "coverType": "Motor third party", "currency": "KES", **fields})
    assert status == 201, quote
    return quote


def upload(api, base_url, quote_id, name, data, content_type):
    request = urllib.request.Request(f"{base_url}/v1/insurance-quotes/{quote_id}/documents?filename={name}", data=data, method="POST")
    request.add_header("Authorization", f"Bearer {api.login(OWNER)}")
    request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201


def stored(api, quote_id):
    status, quote = call(api, "GET", f"/v1/insurance-quotes/{quote_id}")
    assert status == 200, quote
    return quote


@pytest.fixture
def files(tmp_path):
    paths = {"pdf": tmp_path / "id-card.pdf", "png": tmp_path / "logbook.png", "txt": tmp_path / "notes.txt", "fake": tmp_path / "fake.pdf"}
    paths["pdf"].write_bytes(PDF)
    paths["png"].write_bytes(png())
    paths["txt"].write_bytes(b"Not a document at all.\n")
    paths["fake"].write_bytes(b"<html><body>I am not a PDF</body></html>\n")
    return paths


# ---------- the page ----------

def no_dialog(driver):
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))


def type_into(driver, element_id, text):
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)
    return element


def status_of(driver):
    return driver.find_element(By.CSS_SELECTOR, "#iq-status .insurance-status").get_attribute("data-status")


def upload_in_page(driver, *paths):
    field = wait(driver).until(EC.presence_of_element_located((By.ID, "iq-file")))
    field.send_keys("\n".join(str(p) for p in paths))
    click(driver, driver.find_element(By.ID, "iq-upload-submit"))


def upload_note(driver, kind):
    return wait(driver).until(lambda d: d.find_element(By.ID, "iq-upload-status").get_attribute("data-kind") == kind
                              and d.find_element(By.ID, "iq-upload-status").text)


def queue_ids(driver):
    return [tr.get_attribute("data-id") for tr in driver.find_elements(By.CSS_SELECTOR, "#insurance-list tbody tr")]


# ---------- tests ----------

def test_a_quote_is_created_its_documents_uploaded_and_opened_and_it_is_approved(browser, base_url, api, files):
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/insurance", page="insurance")
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert links.index("insurance") == links.index("marketplace") + 1, links
    assert driver.find_element(By.ID, "insurance-status").get_attribute("value") == "pending"

    # created in its dialog for a customer by phone: the page goes to the quote
    name = f"Wanjiru {uuid.uuid4().hex[:6]}"
    click(driver, driver.find_element(By.ID, "insurance-new"))
    open_dialog(driver)
    type_into(driver, "iq-insurer", "Jubilee")
    type_into(driver, "iq-cover", "Motor third party")
    # no customer named yet: said in plain words
    submit_dialog(driver)
    assert "phone number" in wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .form-error").text or None)
    type_into(driver, "iq-name", name)
    type_into(driver, "iq-phone", phone())
    Select(driver.find_element(By.ID, "iq-currency")).select_by_value("KES")
    submit_dialog(driver)
    page_ready(driver, "insurance/:id")
    quote_id = driver.execute_script("return location.hash").split("/")[-1]
    assert name in driver.find_element(By.CSS_SELECTOR, "#main h1").text
    assert status_of(driver) == "pending"
    assert driver.find_element(By.CSS_SELECTOR, "#iq-documents .empty")

    # a text file is refused in plain words, before anything is sent
    upload_in_page(driver, files["txt"])
    message = upload_note(driver, "error")
    assert '"notes.txt" is not a PDF, PNG, JPEG or WebP document, so it was not uploaded.' in message, message
    # so is an HTML page named .pdf
    upload_in_page(driver, files["fake"])
    assert '"fake.pdf" is not a PDF' in upload_note(driver, "error")
    assert stored(api, quote_id)["documents"] == []

    # a real PDF and PNG through the file input
    upload_in_page(driver, files["pdf"], files["png"])
    assert upload_note(driver, "ok") == "2 documents uploaded."
    rows = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#iq-documents tbody tr") if len(d.find_elements(By.CSS_SELECTOR, "#iq-documents tbody tr")) == 2 else None)
    documents = stored(api, quote_id)["documents"]
    assert [(d["fileName"], d["contentType"], d["sizeBytes"]) for d in documents] == [
        ("id-card.pdf", "application/pdf", len(PDF)), ("logbook.png", "image/png", len(png()))]
    assert [r.find_element(By.CSS_SELECTOR, ".iq-type").text for r in rows] == ["PDF", "PNG image"]
    # each opens by its signed link in a new tab, without a token, byte for byte
    for row, body in zip(rows, (PDF, png())):
        link = row.find_element(By.CSS_SELECTOR, "a.iq-open")
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
        href = link.get_attribute("href")
        assert href.startswith(f"{base_url}/v1/insurance-documents/") and "sig=" in href, href
        with urllib.request.urlopen(href, timeout=30) as response:
            assert response.read() == body
    # the image is shown in the page too
    image = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".iq-image img")))
    wait(driver).until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 4)
    # opening the PDF's link opens a second tab
    click(driver, rows[0].find_element(By.CSS_SELECTOR, "a.iq-open"))
    wait(driver).until(lambda d: len(d.window_handles) == 2)
    driver.switch_to.window(driver.window_handles[0])

    # in the pending queue
    go(driver, "#/insurance?status=pending", "insurance")
    wait(driver).until(lambda d: quote_id in queue_ids(d))

    # approved with its premium
    go(driver, f"#/insurance/{quote_id}", "insurance/:id")
    click(driver, driver.find_element(By.ID, "iq-approve"))
    open_dialog(driver)
    # a quote without a premium is approved with one: the form is not sent without it
    submit_dialog(driver)
    assert driver.execute_script("return arguments[0].validity.valueMissing", driver.find_element(By.ID, "iq-approve-premium"))
    assert "no premium" in driver.find_element(By.CSS_SELECTOR, "dialog[open]").text
    type_into(driver, "iq-approve-premium", "15.5.0")
    submit_dialog(driver)
    assert "amount" in wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .form-error").text or None).lower()
    assert stored(api, quote_id)["status"] == "pending"
    type_into(driver, "iq-approve-premium", "1500.00")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: status_of(d) == "approved")
    assert driver.find_element(By.ID, "iq-premium").get_attribute("data-amount") == "1500.00"
    assert driver.find_element(By.ID, "iq-status-line").get_attribute("data-kind") == "ok"
    after = stored(api, quote_id)
    assert after["status"] == "approved" and after["premium"] == {"amount": "1500.00", "currency": "KES"}
    # decided: no review buttons, no more uploads
    assert not driver.find_elements(By.ID, "iq-approve") and not driver.find_elements(By.ID, "iq-changes")
    assert not driver.find_elements(By.ID, "iq-file")
    # out of the pending queue, in the approved one
    go(driver, "#/insurance?status=pending", "insurance")
    assert quote_id not in queue_ids(driver)
    Select(driver.find_element(By.ID, "insurance-status")).select_by_value("approved")
    click(driver, driver.find_element(By.ID, "insurance-apply"))
    wait(driver).until(lambda d: quote_id in queue_ids(d))


def test_asking_for_changes_needs_a_comment_then_the_quote_is_resubmitted(browser, base_url, api, files):
    quote = new_quote(api, f"Otieno {uuid.uuid4().hex[:6]}", premium="800.00")
    upload(api, base_url, quote["id"], "photo.png", png(), "image/png")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route=f"#/insurance/{quote['id']}", page="insurance/:id")
    click(driver, driver.find_element(By.ID, "iq-changes"))
    open_dialog(driver)
    comment = driver.find_element(By.ID, "iq-changes-comment")
    submit_dialog(driver)
    # required: the form is not sent without it
    assert driver.execute_script("return arguments[0].validity.valueMissing", comment)
    assert stored(api, quote["id"])["status"] == "pending"
    comment.send_keys("The logbook photo is blurred: send a sharper one.")
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: status_of(d) == "needs_changes")
    assert driver.find_element(By.ID, "iq-comment").text == "The logbook photo is blurred: send a sharper one."
    after = stored(api, quote["id"])
    assert after["status"] == "needs_changes" and after["reviewerComment"] == "The logbook photo is blurred: send a sharper one."
    assert not driver.find_elements(By.ID, "iq-approve")
    # a new document, then resubmitted: back in the queue
    upload_in_page(driver, files["png"])
    assert upload_note(driver, "ok") == "1 documents uploaded."
    click(driver, wait(driver).until(EC.element_to_be_clickable((By.ID, "iq-resubmit"))))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: status_of(d) == "pending")
    assert len(stored(api, quote["id"])["documents"]) == 2
    assert driver.find_elements(By.ID, "iq-approve")


def test_read_only_staff_see_the_queue_and_documents_with_no_control_that_writes(browser, base_url, api):
    quote = new_quote(api, f"Seen {uuid.uuid4().hex[:6]}")
    upload(api, base_url, quote["id"], "scan.pdf", PDF, "application/pdf")
    driver = browser("phone")
    sign_in(driver, base_url, api, email=READONLY, route="#/insurance?status=all")
    page_ready(driver, "tenant")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "tenant-id"))).send_keys(tenant_of(api))
    driver.find_element(By.ID, "tenant-use").click()
    page_ready(driver, "insurance")
    wait(driver).until(lambda d: quote["id"] in queue_ids(d))
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]") and not driver.find_elements(By.ID, "insurance-new")
    go(driver, f"#/insurance/{quote['id']}", "insurance/:id")
    link = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#iq-documents a.iq-open")))
    assert link.text == "scan.pdf"
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    assert not driver.find_elements(By.ID, "iq-file") and not driver.find_elements(By.ID, "iq-approve")
    headers = {"X-Tenant-ID": tenant_of(api), "Idempotency-Key": str(uuid.uuid4())}
    status, answer = api.call("POST", f"/v1/insurance-quotes/{quote['id']}/review", api.login(READONLY),
                              body={"decision": "approve", "premium": "10.00"}, headers=headers)
    assert status == 403, answer
    assert stored(api, quote["id"])["status"] == "pending"


def test_insurance_fits_a_360_pixel_phone(browser, base_url, api):
    quote = new_quote(api, "A customer with a very long name indeed, for a narrow screen", coverType="Goods in transit, all risks, East Africa")
    upload(api, base_url, quote["id"], "a-document-with-a-rather-long-file-name-that-must-wrap.png", png(300, 200), "image/png")
    driver = browser("phone")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    sign_in(driver, base_url, api, route="#/insurance", page="insurance")

    def overflow():
        return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")

    assert driver.execute_script("return document.documentElement.clientWidth") == 360
    assert overflow() <= 0
    go(driver, f"#/insurance/{quote['id']}", "insurance/:id")
    image = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".iq-image img")))
    wait(driver).until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 300)
    assert overflow() <= 0
    click(driver, driver.find_element(By.ID, "iq-changes"))
    open_dialog(driver)
    assert overflow() <= 0
