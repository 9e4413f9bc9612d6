"""What the admin console's browser tests share: the demo users, waiting for a page, signing in (as read-only
staff too, who name the tenant they act on), moving between pages and working its dialogs."""
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

OWNER = "owner@demo.sokoni.local"
READONLY = "readonly@sokoni.local"


def wait(driver, seconds=20):
    # a list re-rendered between finding an element and reading it is simply read again
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))


def tenant_of(api, email=OWNER):
    return api.user(email)["tenantId"]


def page_ready(driver, page, seconds=20):
    """Waits until the router rendered `page` and its data is in (the page container's data-ready)."""
    return wait(driver, seconds).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, f'#main .page[data-page="{page}"][data-ready="true"]')))


def form_in(driver, api, email):
    email_input = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#signin-form input[name=email]")))
    email_input.clear()
    email_input.send_keys(email)
    driver.find_element(By.CSS_SELECTOR, "#signin-form input[name=password]").send_keys(api.user(email)["password"])
    driver.find_element(By.ID, "signin-submit").click()


def sign_in(driver, base_url, api, email=OWNER, route="#/dashboard", page=None):
    driver.get(f"{base_url}/admin/{route}")
    form_in(driver, api, email)
    if page:
        page_ready(driver, page)


def sign_in_as_readonly(driver, base_url, api, route):
    """Read-only staff name the tenant they act on (they cannot list tenants), then land where they were going."""
    sign_in(driver, base_url, api, email=READONLY, route=route)
    page_ready(driver, "tenant")
    field = wait(driver).until(EC.visibility_of_element_located((By.ID, "tenant-id")))
    field.send_keys(tenant_of(api))
    driver.find_element(By.ID, "tenant-use").click()


def go(driver, route, page):
    driver.execute_script("location.hash = arguments[0]", route)
    return page_ready(driver, page)


def click(driver, element):
    """Clicks an element brought to the middle of the screen (not left under the sticky header)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def open_dialog(driver):
    return wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog[open]")))


def submit_dialog(driver):
    click(driver, driver.find_element(By.CSS_SELECTOR, "dialog[open] button[type=submit]"))


def page_holds(driver, secret):
    """Whether the text anywhere in the document (markup, visible text, form values) contains secret."""
    return driver.execute_script("""
        const secret = arguments[0];
        const values = [...document.querySelectorAll('input, textarea, output')].map((e) => e.value || '').join(' ');
        return document.documentElement.outerHTML.includes(secret) || document.body.innerText.includes(secret)
          || values.includes(secret);
    """, secret)
