"""What the Google-connection and booking-page tests share: a tenant of their own (its own default sandbox channel,
reminder settings and calendars, so nothing another test made in the demo tenant is in the way), signing in as its
admin, calendars (agents) with hours, bookings, and the sandbox Google's controls."""
import datetime
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from console import page_ready, wait

SUPER = "admin@sokoni.local"
AGENT_ZONE = "Africa/Nairobi"
UTC = datetime.timezone.utc


class Tenant:
    """A fresh tenant and its admin: `call` speaks to the API as that admin."""

    def __init__(self, api):
        self.api = api
        slug = f"gcal-{uuid.uuid4().hex[:8]}"
        status, tenant = api.call("POST", "/v1/tenants", api.login(SUPER), body={
            "name": f"Google calendar {slug}", "slug": slug, "plan": "pro", "currency": "KES"})
        assert status == 201, tenant
        self.id = tenant["id"]
        self.email, self.password = f"{slug}@example.com", f"pw-{uuid.uuid4().hex}"
        status, user = api.call("POST", "/v1/users", api.login(SUPER), body={
            "email": self.email, "password": self.password, "name": "Calendar owner", "tenantId": self.id, "roles": ["tenant_admin"]})
        assert status == 201, user
        self.token = api.login(self.email, self.password)

    def call(self, method, path, body=None, key=None):
        headers = {"Idempotency-Key": key} if key else {}
        status, answer = self.api.call(method, path, self.token, body=body, headers=headers)
        if status == 401:
            # a long module may outlive the access token
            self.token = self.api.login(self.email, self.password)
            status, answer = self.api.call(method, path, self.token, body=body, headers=headers)
        return status, answer

    def agent(self, name=None, hours=(("08:00", "18:00"),)):
        """A calendar in Nairobi open every day for `hours` (agent-local)."""
        status, agent = self.call("POST", "/v1/calendar/agents", {
            "name": name or unique("Cal"), "kind": "person", "timeZone": AGENT_ZONE, "serviceDurations": {}}, key=str(uuid.uuid4()))
        assert status == 201, agent
        weekly = [{"weekday": d, "start": start, "end": end} for d in range(1, 8) for start, end in hours]
        status, rules = self.call("PUT", "/v1/availability/rules", {"agentId": agent["id"], "schedule": {"timeZone": AGENT_ZONE, "weekly": weekly}})
        assert status == 200, rules
        return agent

    def book(self, agent, start, minutes=60, **extra):
        body = {"agentId": agent["id"], "startsAt": iso(start), "durationMinutes": minutes, "title": extra.pop("title", unique("Visit")), **extra}
        status, appointment = self.call("POST", "/v1/appointments", body, key=str(uuid.uuid4()))
        assert status == 201, appointment
        return appointment

    def appointment(self, appointment_id):
        status, found = self.call("GET", f"/v1/appointments/{appointment_id}")
        assert status == 200, found
        return found

    def connections(self, all_of_them=True):
        status, page = self.call("GET", "/v1/calendar/connections" + ("?all=true" if all_of_them else ""))
        assert status == 200, page
        return page

    def connection_of(self, agent, all_of_them=True):
        found = [c for c in self.connections(all_of_them)["items"] if c["agentId"] == agent["id"]]
        return sorted(found, key=lambda c: c["updatedAt"])[-1] if found else None

    def outbox(self):
        """Every sandbox message of the tenant, oldest first."""
        items, cursor = [], None
        while True:
            query = "limit=200" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            status, page = self.call("GET", f"/v1/sandbox/outbox?{query}")
            assert status == 200, page
            items += page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return items


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def iso(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def sign_in_with(driver, base_url, email, password, route, page):
    driver.get(f"{base_url}/admin/{route}")
    field = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#signin-form input[name=email]")))
    field.send_keys(email)
    driver.find_element(By.CSS_SELECTOR, "#signin-form input[name=password]").send_keys(password)
    driver.find_element(By.ID, "signin-submit").click()
    return page_ready(driver, page)


# ---------- the sandbox Google ----------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(method, url, body=None, form=None):
    """(status, parsed JSON or text, headers) of one request; redirects are answers, not followed."""
    data, headers = None, {}
    if form is not None:
        data, headers = urllib.parse.urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    elif body is not None:
        data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with OPENER.open(request, timeout=30) as response:
            status, raw, answer_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, answer_headers = error.code, error.read(), error.headers
    try:
        return status, json.loads(raw) if raw else None, answer_headers
    except ValueError:
        return status, raw.decode(errors="replace"), answer_headers


class Google:
    """The sandbox Google's controls (Deploy/sandbox/google.py, /sandbox/…)."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def account(self, email):
        status, answer, _ = http("GET", f"{self.url}/sandbox/accounts/{email}")
        assert status == 200, answer
        return answer

    def add_busy(self, email, start, end, summary="Dentist"):
        status, event, _ = http("POST", f"{self.url}/sandbox/accounts/{email}/events", {"summary": summary, "start": iso(start), "end": iso(end)})
        assert status == 201, event
        return event

    def events(self, email):
        status, answer, _ = http("GET", f"{self.url}/sandbox/accounts/{email}/events")
        assert status == 200, answer
        return answer["items"]

    def revoke(self, email):
        status, answer, _ = http("POST", f"{self.url}/sandbox/accounts/{email}/revoke", {})
        assert status == 200, answer
        return answer

    def consent(self, authorization_url, email, decision="allow"):
        """What the consent page's form does, without a browser: the redirect back to the platform's callback."""
        status, page, _ = http("GET", authorization_url)
        assert status == 200, page
        marker = 'name="consent" value="'
        consent = page[page.index(marker) + len(marker):].split('"', 1)[0]
        status, _, headers = http("POST", f"{self.url}/o/oauth2/v2/auth", form={"consent": consent, "email": email, "decision": decision})
        assert status == 302, status
        return headers["Location"]


def connect(tenant, google, agent, email, meet=False):
    """A connection made as the console would, with the consent given through the sandbox's form; answers it."""
    status, started = tenant.call("POST", "/v1/calendar/connections", {"agentId": agent["id"], "createMeetLinks": meet}, key=str(uuid.uuid4()))
    assert status == 201, started
    callback = google.consent(started["authorizationUrl"], email)
    status, _, headers = http("GET", callback)
    assert status == 303 and "google=connected" in headers["Location"], (status, headers.get("Location"))
    connection = tenant.connection_of(agent)
    assert connection["status"] == "active" and connection["account"] == email, connection
    return connection
