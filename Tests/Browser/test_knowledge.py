"""The knowledge page of the admin console in a real Chromium: a document pasted in the page is the API's, listed,
indexed within seconds (the list turns it "Searchable"), its passages shown; a question typed in the search box
finds it first with its scores and source; deleting it in the page removes it from the API and the database. A CSV
file chosen in the page becomes one passage per row. Read-only staff see the page and search, with no control that
writes. Each test makes its own documents with unique words (the demo database is shared)."""
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select
from console import OWNER, click, open_dialog, page_ready, sign_in, sign_in_as_readonly, submit_dialog, wait


def no_dialog(driver):
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"))


def type_into(driver, element_id, text):
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)
    return element


def row_of(driver, title):
    return wait(driver).until(lambda d: next((tr for tr in d.find_elements(By.CSS_SELECTOR, "#knowledge-list tbody tr")
                                              if tr.find_element(By.CSS_SELECTOR, ".knowledge-open").text == title), None))


def documents_titled(api, title):
    status, page = api.call("GET", "/v1/knowledge?limit=200", api.login(OWNER))
    assert status == 200, page
    return [d for d in page["items"] if d["title"] == title]


def searchable(driver, title):
    wait(driver, 30).until(lambda d: "Searchable" in row_of(d, title).find_element(By.CSS_SELECTOR, ".knowledge-state").text)


def test_a_pasted_document_is_listed_with_its_passages_found_first_and_deleted(browser, base_url, api, sql):
    word = f"zq{uuid.uuid4().hex[:8]}"
    title = f"Generator rental {word}"
    content = (f"Diesel generators of 5 to 60 kVA can be rented by the day at the Remera station under code {word}. "
               "A deposit of 100,000 RWF is paid by mobile money and returned when the generator comes back.")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/knowledge", page="knowledge")
    # the menu entry sits next to the FAQs
    links = [a.get_attribute("data-route") for a in driver.find_elements(By.CSS_SELECTOR, "#nav a[data-route]")]
    assert "knowledge" in links and links.index("knowledge") == links.index("faqs") + 1, links
    click(driver, driver.find_element(By.ID, "knowledge-create"))
    open_dialog(driver)
    type_into(driver, "knowledge-title", title)
    Select(driver.find_element(By.ID, "knowledge-source-type")).select_by_value("product")
    type_into(driver, "knowledge-content", content)
    submit_dialog(driver)
    no_dialog(driver)
    searchable(driver, title)
    found = documents_titled(api, title)
    assert len(found) == 1, found
    document = found[0]
    assert document["sourceType"] == "product" and document["format"] == "text" and document["status"] == "indexed"
    assert document["chunkCount"] == 1
    # its passages
    click(driver, row_of(driver, title).find_element(By.CSS_SELECTOR, ".knowledge-open"))
    chunks = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#knowledge-detail .knowledge-chunk"))
    assert len(chunks) == 1 and word in chunks[0].text
    assert sql(f"SELECT count(*) FROM agent.knowledge_chunks WHERE document_id = '{document['id']}'") == [["1"]]
    # a customer's question finds it first, with its scores and source
    type_into(driver, "knowledge-query", f"rent a diesel generator {word}")
    click(driver, driver.find_element(By.ID, "knowledge-search-submit"))
    first = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#knowledge-results .knowledge-result")))
    assert first.get_attribute("data-document") == document["id"]
    assert title in first.find_element(By.CSS_SELECTOR, ".knowledge-source").text
    scores = first.find_element(By.CSS_SELECTOR, ".knowledge-scores").text
    assert "full-text" in scores and "similarity" in scores and "—" not in scores, scores
    # deleted in the page: gone from the list, the API and the database
    click(driver, row_of(driver, title).find_element(By.CSS_SELECTOR, 'button[data-action="delete"]'))
    open_dialog(driver)
    submit_dialog(driver)
    no_dialog(driver)
    wait(driver).until(lambda d: all(tr.find_element(By.CSS_SELECTOR, ".knowledge-open").text != title
                                     for tr in d.find_elements(By.CSS_SELECTOR, "#knowledge-list tbody tr")))
    status, _ = api.call("GET", f"/v1/knowledge/{document['id']}", api.login(OWNER))
    assert status == 404
    assert sql(f"SELECT count(*) FROM agent.knowledge_chunks WHERE document_id = '{document['id']}'") == [["0"]]


def test_a_csv_file_becomes_one_passage_per_row(browser, base_url, api, tmp_path):
    word = f"zq{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"lubricants-{word}.csv"
    path.write_text(f"product,price\nEngine oil {word},12000 RWF\n\"Brake fluid, DOT4\",4500 RWF\n", encoding="utf-8")
    driver = browser("desktop")
    sign_in(driver, base_url, api, route="#/knowledge", page="knowledge")
    click(driver, driver.find_element(By.ID, "knowledge-create"))
    open_dialog(driver)
    driver.find_element(By.ID, "knowledge-file").send_keys(str(path))
    wait(driver).until(lambda d: word in d.find_element(By.ID, "knowledge-content").get_attribute("value"))
    assert Select(driver.find_element(By.ID, "knowledge-format")).first_selected_option.get_attribute("value") == "csv"
    title = driver.find_element(By.ID, "knowledge-title").get_attribute("value")
    assert title == f"lubricants-{word}"
    submit_dialog(driver)
    no_dialog(driver)
    searchable(driver, title)
    click(driver, row_of(driver, title).find_element(By.CSS_SELECTOR, ".knowledge-open"))
    chunks = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#knowledge-detail .knowledge-chunk"))
    assert [c.text for c in chunks] == [f"product: Engine oil {word}\nprice: 12000 RWF", "product: Brake fluid, DOT4\nprice: 4500 RWF"]
    document = documents_titled(api, title)[0]
    status, _ = api.call("DELETE", f"/v1/knowledge/{document['id']}", api.login(OWNER))
    assert status == 204


def test_read_only_staff_search_but_see_no_control_that_writes(browser, base_url, api):
    driver = browser("phone")
    sign_in_as_readonly(driver, base_url, api, "#/knowledge")
    page_ready(driver, "knowledge")
    assert not driver.find_elements(By.CSS_SELECTOR, "#main [data-write]")
    assert driver.find_element(By.ID, "knowledge-query").is_displayed()
