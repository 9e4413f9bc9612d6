"""A tenant of its own for the CRM's browser tests (pipeline, leads, customers, analytics, rules): made by the demo super
admin with its admin and an agent, so what a test reads is its own; the API as either of them, the events the other
services tell the CRM (with a service token, service_token.py) and voice calls reported as Vapi reports them."""
import datetime
import random
import urllib.parse
import uuid

from service_token import mint
from test_calls import deliver, report as vapi_report

SUPER = "admin@sokoni.local"
# who sends each kind of event
SOURCES = {"message_received": "messaging", "conversation_closed": "messaging", "opted_out": "messaging", "opted_in": "messaging",
           "appointment_booked": "calendar-booking", "appointment_cancelled": "calendar-booking",
           "appointment_completed": "calendar-booking", "appointment_missed": "calendar-booking", "purchase": "marketplace-wallet"}


class CRM:
    """A fresh tenant with its admin (`call` speaks as them) and an agent (`as_agent`)."""

    def __init__(self, api):
        self.api = api
        slug = f"crm-{uuid.uuid4().hex[:8]}"
        status, tenant = api.call("POST", "/v1/tenants", api.login(SUPER), body={
            "name": f"CRM {slug}", "slug": slug, "plan": "pro", "currency": "KES"})
        assert status == 201, tenant
        self.id = tenant["id"]
        self.email, self.password = f"{slug}@example.com", f"pw-{uuid.uuid4().hex}"
        self.admin = self.user(self.email, self.password, "Pipeline owner", ["tenant_admin"])
        self.agent_email, self.agent_password = f"{slug}-agent@example.com", f"pw-{uuid.uuid4().hex}"
        self.agent_name = f"Agent {slug[-4:]}"
        self.agent = self.user(self.agent_email, self.agent_password, self.agent_name, ["agent"])
        self.tokens = {}
        self.voice = None

    def user(self, email, password, name, roles):
        status, user = self.api.call("POST", "/v1/users", self.api.login(SUPER), body={
            "email": email, "password": password, "name": name, "tenantId": self.id, "roles": roles})
        assert status == 201, user
        return user

    def call(self, method, path, body=None, as_agent=False, key=None, headers=None):
        email, password = (self.agent_email, self.agent_password) if as_agent else (self.email, self.password)
        headers = {**(headers or {}), **({"Idempotency-Key": key} if key else {})}
        if email not in self.tokens:
            self.tokens[email] = self.api.login(email, password)
        status, answer = self.api.call(method, path, self.tokens[email], body=body, headers=headers)
        if status == 401:
            # a long module may outlive the access token
            self.tokens[email] = self.api.login(email, password)
            status, answer = self.api.call(method, path, self.tokens[email], body=body, headers=headers)
        return status, answer

    def lead(self, phone=None, **fields):
        status, lead = self.call("POST", "/v1/leads", {"phone": phone or unique_phone(), **fields})
        assert status == 201, lead
        return lead

    def get(self, lead_id):
        status, lead = self.call("GET", f"/v1/leads/{lead_id}")
        assert status == 200, lead
        return lead

    def leads(self, **query):
        params = "&".join(f"{k}={urllib_quote(v)}" for k, v in {"limit": 200, **query}.items())
        status, page = self.call("GET", f"/v1/leads?{params}")
        assert status == 200, page
        return page["items"]

    def activity(self, lead_id):
        status, page = self.call("GET", f"/v1/leads/{lead_id}/activity?limit=50")
        assert status == 200, page
        return page["items"]

    def stages(self):
        status, answer = self.call("GET", "/v1/pipeline/stages")
        assert status == 200, answer
        return [s["key"] for s in answer["stages"]]

    def figures(self):
        status, answer = self.call("GET", "/v1/pipeline")
        assert status == 200, answer
        return {s["key"]: s for s in answer["stages"]}

    def events(self, *events):
        """The CRM's events as the other services post them (a service token): each {kind, phone, …}, an id and the
        time added; the receipt."""
        now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        body = {"events": [{"id": f"bt-{uuid.uuid4().hex}", "source": SOURCES[e["kind"]], "at": now, **e} for e in events]}
        token = mint(f"service:{body['events'][0]['source']}")
        assert token, "the platform's secrets file is missing: events need its service key"
        status, receipt = self.api.call("POST", "/v1/crm/events", token, body=body, headers={"X-Tenant-ID": self.id})
        assert status == 200 and receipt["recorded"] == len(events), (status, receipt)
        return receipt

    def report_call(self, phone):
        """A voice call of `phone` that ended now, reported by Vapi as test_calls.py delivers it; the call made of it."""
        if not self.voice:
            status, settings = self.call("POST", "/v1/voice/settings")
            assert status == 201, settings
            self.voice = settings
        body = vapi_report(f"call-{uuid.uuid4().hex[:10]}", phone)
        status, answer = deliver(self.api.base_url + self.voice["webhookPath"], body, self.voice["secret"])
        assert status == 200 and answer["received"] == "recorded", (status, answer)
        status, call = self.call("GET", f"/v1/calls/{answer['callId']}")
        assert status == 200, call
        return call

    def rules(self):
        status, answer = self.call("GET", "/v1/pipeline/rules")
        assert status == 200, answer
        return answer["rules"]


def urllib_quote(value):
    return urllib.parse.quote(str(value), safe="")


def unique_phone():
    return "+2547" + "".join(random.choice("0123456789") for _ in range(8))


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:6]}"
