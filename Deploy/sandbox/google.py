#!/usr/bin/env python3
"""Sandbox Google: a loopback stand-in for Google's OAuth 2.0 and Calendar API v3, speaking their wire formats, so that
"Connect Google Calendar" works on one machine with nothing outside (./Deploy/local starts it) and the browser tests
can drive every turn of it. Python 3 standard library only; everything lives in memory and is gone when it stops.

  python3 Deploy/sandbox/google.py --port 8089 --client-id sandbox-client   (secret: SANDBOX_GOOGLE_CLIENT_SECRET)

What Google's side looks like here:
  GET  /o/oauth2/v2/auth?client_id&redirect_uri&response_type=code&scope&state&code_challenge&code_challenge_method=S256
       [&login_hint]      a consent page (an email and Allow / Deny), then 302 to redirect_uri?code=…&state=…
                          (or ?error=access_denied&state=…)
  POST /token             grant_type=authorization_code (PKCE S256 checked) or refresh_token, Google's error bodies
  POST /revoke            token=… (a refresh token takes its access tokens with it)
  /calendar/v3            GET /calendars/{id}; GET, POST /calendars/{id}/events (sync tokens, pages, client ids,
                          Meet links); PATCH, DELETE /calendars/{id}/events/{eventId}; POST /freeBusy

And, for tests and demos only, the sandbox's own controls (JSON, no authentication: loopback only):
  GET    /sandbox/                                        the accounts, their tokens and events, counted
  GET    /sandbox/accounts/{email}                        one account: tokens (active, revoked) and events
  GET    /sandbox/accounts/{email}/events                 its events, cancelled ones too
  POST   /sandbox/accounts/{email}/events                 {summary, start, end[, transparency, id]}: a busy event
  DELETE /sandbox/accounts/{email}/events/{id}            the owner deletes an event (cancelled in the next sync)
  POST   /sandbox/accounts/{email}/revoke                 every token of the account revoked (refresh → invalid_grant)
  POST   /sandbox/accounts/{email}/expire-access-tokens   its access tokens expire now (the next call gets 401)
  POST   /sandbox/accounts/{email}/invalidate-sync-tokens the next incremental sync gets 410 fullSyncRequired
  GET    /healthz                                         ok
"""
import argparse
import base64
import datetime
import hashlib
import html
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

CODE_SECONDS = 600
ACCESS_SECONDS = 3599
CALENDAR_ZONE = "Africa/Nairobi"
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UTC = datetime.timezone.utc

LOCK = threading.RLock()
CLIENTS = {}        # client_id → secret
CONSENTS = {}       # consent request id → the auth request's parameters (one use, CODE_SECONDS)
CODES = {}          # code → {client_id, redirect_uri, challenge, email, scope, expires}
REFRESH = {}        # refresh token → {email, client_id, scope, revoked}
ACCESS = {}         # access token → {email, refresh, expires, revoked}
ACCOUNTS = {}       # email → {"events": {id: event}, "seq": int, "epoch": str}


# ---------------------------------------------------------------- time

def now():
    return datetime.datetime.now(UTC)


def rfc3339(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text):
    """An RFC 3339 time (Z or an offset, fractions allowed) as an aware datetime, or None."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def event_bounds(event):
    """(start, end) of an event as aware datetimes; an all-day event's days in the calendar's zone."""
    def one(part):
        if not isinstance(part, dict):
            return None
        if part.get("dateTime"):
            return parse_time(part["dateTime"])
        if part.get("date"):
            try:
                day = datetime.date.fromisoformat(part["date"])
            except ValueError:
                return None
            return datetime.datetime.combine(day, datetime.time(0, 0), ZoneInfo(part.get("timeZone") or CALENDAR_ZONE))
        return None
    return one(event.get("start")), one(event.get("end"))


# ---------------------------------------------------------------- state

def account(email):
    email = email.lower()
    if email not in ACCOUNTS:
        ACCOUNTS[email] = {"events": {}, "seq": 0, "epoch": secrets.token_hex(4)}
    return ACCOUNTS[email]


def bump(acct, event):
    acct["seq"] += 1
    event["_seq"] = acct["seq"]
    stamp = now()
    event["updated"] = rfc3339(stamp)
    event["etag"] = f'"{int(stamp.timestamp() * 1000)}{acct["seq"]:04d}"'


def public(event):
    return {k: v for k, v in event.items() if not k.startswith("_")}


def new_event(email, body, event_id=None):
    acct = account(email)
    stamp = now()
    event_id = event_id or secrets.token_hex(13).translate(str.maketrans("", "", "wxyz"))
    event = {
        "kind": "calendar#event",
        "id": event_id,
        "status": "confirmed",
        "htmlLink": f"https://www.google.com/calendar/event?eid={base64.urlsafe_b64encode(f'{event_id} {email}'.encode()).decode().rstrip('=')}",
        "created": rfc3339(stamp),
        "creator": {"email": email, "self": True},
        "organizer": {"email": email, "self": True},
        "iCalUID": f"{event_id}@google.com",
        "sequence": 0,
        "reminders": {"useDefault": True},
        "eventType": "default",
    }
    for key in ("summary", "description", "location", "start", "end", "attendees", "extendedProperties", "transparency",
                "visibility", "colorId", "conferenceData", "source", "reminders"):
        if key in body:
            event[key] = body[key]
    bump(acct, event)
    acct["events"][event_id] = event
    return event


def meet(event, request_id):
    """A Meet link for an event whose conferenceData asked for one (conferenceDataVersion=1)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    code = "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))
    uri = f"https://meet.google.com/{code}"
    event["hangoutLink"] = uri
    event["conferenceData"] = {
        "createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}, "status": {"statusCode": "success"}},
        "entryPoints": [{"entryPointType": "video", "uri": uri, "label": uri.replace("https://", "")}],
        "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
        "conferenceId": code,
    }


def sync_token(acct, seq):
    """An opaque sync token: the account's epoch (changed to invalidate every token) and a sequence number."""
    return "CP" + base64.urlsafe_b64encode(f"{acct['epoch']}.{seq}".encode()).decode().rstrip("=")


def read_sync_token(acct, token):
    """The sequence number a sync token stands for, or None when it is unknown or from before an invalidation."""
    if not token.startswith("CP"):
        return None
    try:
        raw = base64.urlsafe_b64decode(token[2:] + "=" * (-len(token[2:]) % 4)).decode()
        epoch, seq = raw.split(".")
        seq = int(seq)
    except (ValueError, UnicodeDecodeError):
        return None
    return seq if epoch == acct["epoch"] and 0 <= seq <= acct["seq"] else None


def busy_of(email, low, high):
    """Google's freeBusy: the merged times of opaque, not cancelled events within [low, high)."""
    spans = []
    for event in account(email)["events"].values():
        if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
            continue
        start, end = event_bounds(event)
        if not start or not end or end <= low or start >= high:
            continue
        spans.append((max(start, low), min(end, high)))
    spans.sort()
    merged = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [{"start": rfc3339(s).replace(".000Z", "Z"), "end": rfc3339(e).replace(".000Z", "Z")} for s, e in merged]


def tokens_of(email):
    email = email.lower()
    refresh = [r for r in REFRESH.values() if r["email"] == email]
    access = [a for a in ACCESS.values() if a["email"] == email]
    moment = time.time()
    return {
        "refreshTokens": {"active": sum(not r["revoked"] for r in refresh), "revoked": sum(r["revoked"] for r in refresh)},
        "accessTokens": {"active": sum(not a["revoked"] and a["expires"] > moment for a in access),
                         "expiredOrRevoked": sum(a["revoked"] or a["expires"] <= moment for a in access)},
    }


def account_view(email):
    acct = account(email)
    events = list(acct["events"].values())
    return {"email": email.lower(), **tokens_of(email), "events": len(events),
            "cancelledEvents": sum(e.get("status") == "cancelled" for e in events)}


def issue_access(email, refresh):
    token = "ya29.sandbox-" + secrets.token_urlsafe(32)
    ACCESS[token] = {"email": email, "refresh": refresh, "expires": time.time() + ACCESS_SECONDS, "revoked": False}
    return token


# ---------------------------------------------------------------- pages

CONSENT_CSS = """
body { font: 16px/1.45 system-ui, sans-serif; margin: 0; background: #f1f3f4; color: #202124; }
main { max-width: 420px; margin: 40px auto; background: #fff; border: 1px solid #dadce0; border-radius: 8px; padding: 24px; }
h1 { font-size: 1.35rem; margin: 0 0 12px; }
.brand { color: #1a73e8; font-weight: 600; margin: 0 0 16px; }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
input[type=email] { width: 100%; box-sizing: border-box; font: inherit; padding: 10px; border: 1px solid #dadce0; border-radius: 4px; }
ul { padding-left: 20px; }
.actions { display: flex; gap: 12px; justify-content: flex-end; margin-top: 20px; }
button { font: inherit; padding: 10px 20px; border-radius: 4px; border: 1px solid #dadce0; background: #fff; color: #1a73e8; cursor: pointer; }
button.allow { background: #1a73e8; color: #fff; border-color: #1a73e8; }
button:focus-visible { outline: 3px solid #174ea6; outline-offset: 2px; }
.note { color: #5f6368; font-size: 0.9rem; }
"""


def page(title, body):
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/sandbox/consent.css">
</head>
<body>
<main>
<p class="brand">Sokoni sandbox Google</p>
{body}
</main>
</body>
</html>
"""


def consent_page(consent_id, client_id, email, scope):
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in scope.split())
    return page("Sign in with Google (sandbox)", f"""
<h1 id="consent-title">Sokoni sandbox Google — allow {html.escape(client_id)} to manage your calendar?</h1>
<p>It asks for:</p>
<ul id="consent-scopes">{scopes}</ul>
<form method="post" action="/o/oauth2/v2/auth" id="consent-form">
<input type="hidden" name="consent" value="{html.escape(consent_id)}">
<label for="email">Google account</label>
<input type="email" id="email" name="email" value="{html.escape(email)}" required autocomplete="email">
<div class="actions">
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
<button type="submit" name="decision" value="allow" id="allow" class="allow">Allow</button>
</div>
</form>
<p class="note">This is not Google: a loopback sandbox for trying Sokoni on one machine.</p>
""")


def error_page(status, error, message):
    return page(f"Error {status}: {error}", f"""
<h1 id="error-title">Error {status}: {html.escape(error)}</h1>
<p id="error-message">{html.escape(message)}</p>
""")


# ---------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    server_version = "SandboxGoogle/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write(f"{self.log_date_time_string()} {self.address_string()} {fmt % args}\n")

    # -- answers

    def send(self, status, body=b"", content_type="application/json; charset=UTF-8", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, indent=1).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def html(self, status, text):
        self.send(status, text, "text/html; charset=utf-8",
                  {"Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self' http: https:; base-uri 'none'"})

    def redirect(self, url):
        self.send(302, b"", "text/plain", {"Location": url})

    def api_error(self, status, message, reason=None, status_text=None, extra=None):
        error = {"code": status, "message": message}
        if reason:
            error["errors"] = [{"domain": "global", "reason": reason, "message": message}]
        if status_text:
            error["status"] = status_text
        if extra:
            error.update(extra)
        self.send(status, {"error": error})

    # -- requests

    def body_bytes(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def form(self):
        return {k: v[-1] for k, v in urllib.parse.parse_qs(self.body_bytes().decode(errors="replace"), keep_blank_values=True).items()}

    def json_body(self):
        raw = self.body_bytes()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def route(self):
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        segments = [urllib.parse.unquote(s) for s in parts.path.split("/")[1:]]
        return parts.path, segments, query

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        path, segments, query = self.route()
        try:
            with LOCK:
                if path == "/healthz":
                    return self.send(200, {"status": "ok"})
                if path == "/o/oauth2/v2/auth":
                    return self.authorize(method, query)
                if path == "/token" and method == "POST":
                    return self.token()
                if path == "/revoke" and method == "POST":
                    return self.revoke(query)
                if segments[:2] == ["calendar", "v3"]:
                    return self.calendar(method, segments[2:], query)
                if segments and segments[0] == "sandbox":
                    return self.control(method, [s for s in segments[1:] if s != ""], query)
                return self.send(404, {"error": {"code": 404, "message": "Not Found"}})
        except BrokenPipeError:
            pass

    # ---------------------------------------------------------------- OAuth

    def authorize(self, method, query):
        if method == "POST":
            return self.decide(self.form())
        client_id = query.get("client_id", "")
        if client_id not in CLIENTS:
            return self.html(401, error_page(401, "invalid_client", "The OAuth client was not found."))
        redirect_uri = query.get("redirect_uri", "")
        if not re.match(r"^https?://[^/]+/", redirect_uri):
            return self.html(400, error_page(400, "redirect_uri_mismatch", "Missing or malformed redirect_uri."))
        if query.get("response_type") != "code":
            return self.html(400, error_page(400, "invalid_request", "Required parameter is missing or invalid: response_type"))
        if query.get("code_challenge_method") != "S256" or not re.match(r"^[A-Za-z0-9_-]{43,128}$", query.get("code_challenge", "")):
            return self.html(400, error_page(400, "invalid_request", "code_challenge_method must be S256, with a code_challenge."))
        if not query.get("scope"):
            return self.html(400, error_page(400, "invalid_request", "Missing required parameter: scope"))
        consent_id = secrets.token_urlsafe(16)
        CONSENTS[consent_id] = {**query, "expires": time.time() + CODE_SECONDS}
        email = query.get("login_hint") or "demo@sandbox.test"
        return self.html(200, consent_page(consent_id, client_id, email, query["scope"]))

    def decide(self, form):
        consent = CONSENTS.pop(form.get("consent", ""), None)
        if not consent or consent["expires"] < time.time():
            return self.html(400, error_page(400, "invalid_request", "This sign-in request is unknown or expired: start again."))
        state = consent.get("state")

        def back(**params):
            if state is not None:
                params["state"] = state
            separator = "&" if "?" in consent["redirect_uri"] else "?"
            return self.redirect(consent["redirect_uri"] + separator + urllib.parse.urlencode(params))

        if form.get("decision") != "allow":
            return back(error="access_denied")
        email = form.get("email", "").strip().lower()
        if not EMAIL.match(email):
            CONSENTS[form["consent"]] = consent
            return self.html(400, consent_page(form["consent"], consent["client_id"], email, consent["scope"]))
        account(email)
        code = "4/0Sandbox" + secrets.token_urlsafe(32)
        CODES[code] = {"client_id": consent["client_id"], "redirect_uri": consent["redirect_uri"], "challenge": consent["code_challenge"],
                       "email": email, "scope": consent["scope"], "expires": time.time() + CODE_SECONDS,
                       "offline": consent.get("access_type") == "offline"}
        return back(code=code, scope=consent["scope"], authuser="0", prompt="consent")

    def client(self, form):
        """The client the form names, when its secret is right; else an answer was sent and None is returned."""
        client_id = form.get("client_id", "")
        if client_id not in CLIENTS:
            self.send(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
            return None
        if not secrets.compare_digest(CLIENTS[client_id], form.get("client_secret", "")):
            self.send(401, {"error": "invalid_client", "error_description": "Unauthorized"})
            return None
        return client_id

    def token(self):
        form = self.form()
        grant = form.get("grant_type")
        if grant not in ("authorization_code", "refresh_token"):
            return self.send(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + (grant or "")})
        client_id = self.client(form)
        if client_id is None:
            return None
        if grant == "authorization_code":
            code = CODES.pop(form.get("code", ""), None)
            if not code or code["expires"] < time.time() or code["client_id"] != client_id:
                return self.send(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            if form.get("redirect_uri") != code["redirect_uri"]:
                return self.send(400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"})
            verifier = form.get("code_verifier", "")
            if not verifier:
                return self.send(400, {"error": "invalid_grant", "error_description": "Missing code verifier."})
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if not secrets.compare_digest(challenge, code["challenge"]):
                return self.send(400, {"error": "invalid_grant", "error_description": "Invalid code verifier."})
            refresh = "1//sandbox-" + secrets.token_urlsafe(40)
            REFRESH[refresh] = {"email": code["email"], "client_id": client_id, "scope": code["scope"], "revoked": False}
            answer = {"access_token": issue_access(code["email"], refresh), "expires_in": ACCESS_SECONDS, "scope": code["scope"],
                      "token_type": "Bearer"}
            if code["offline"]:
                answer["refresh_token"] = refresh
            return self.send(200, answer)
        grant_row = REFRESH.get(form.get("refresh_token", ""))
        if not grant_row or grant_row["revoked"] or grant_row["client_id"] != client_id:
            return self.send(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        token = issue_access(grant_row["email"], form["refresh_token"])
        return self.send(200, {"access_token": token, "expires_in": ACCESS_SECONDS, "scope": grant_row["scope"], "token_type": "Bearer"})

    def revoke(self, query):
        token = self.form().get("token") or query.get("token", "")
        if token in REFRESH and not REFRESH[token]["revoked"]:
            REFRESH[token]["revoked"] = True
            for row in ACCESS.values():
                if row["refresh"] == token:
                    row["revoked"] = True
            return self.send(200, {})
        if token in ACCESS and not ACCESS[token]["revoked"]:
            ACCESS[token]["revoked"] = True
            return self.send(200, {})
        return self.send(400, {"error": "invalid_token", "error_description": "Token expired or revoked"})

    # ---------------------------------------------------------------- Calendar API v3

    def caller(self):
        header = self.headers.get("Authorization", "")
        row = ACCESS.get(header[7:]) if header.startswith("Bearer ") else None
        if not row or row["revoked"] or row["expires"] <= time.time() or REFRESH.get(row["refresh"], {}).get("revoked"):
            self.api_error(401, "Request had invalid authentication credentials.", status_text="UNAUTHENTICATED",
                           extra={"errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError",
                                              "location": "Authorization", "locationType": "header"}]})
            return None
        return row["email"]

    def calendar_of(self, email, calendar_id):
        """The account's calendar the id names ("primary" or its email); None (and a 404 sent) otherwise."""
        if calendar_id in ("primary", email):
            return account(email)
        self.api_error(404, "Not Found", reason="notFound")
        return None

    def calendar(self, method, rest, query):
        if rest == ["freeBusy"] and method == "POST":
            email = self.caller()
            return email and self.free_busy(email)
        if len(rest) < 2 or rest[0] != "calendars":
            return self.api_error(404, "Not Found", reason="notFound")
        email = self.caller()
        if not email:
            return None
        calendar_id = rest[1]
        acct = self.calendar_of(email, calendar_id)
        if acct is None:
            return None
        if len(rest) == 2 and method == "GET":
            return self.send(200, {"kind": "calendar#calendar", "etag": f'"{acct["epoch"]}"', "id": email, "summary": email,
                                   "timeZone": CALENDAR_ZONE, "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}})
        if len(rest) == 3 and rest[2] == "events":
            if method == "GET":
                return self.list_events(acct, query)
            if method == "POST":
                return self.insert_event(email, acct, query)
        if len(rest) == 4 and rest[2] == "events":
            event = acct["events"].get(rest[3])
            if method == "GET":
                return self.send(200, public(event)) if event else self.api_error(404, "Not Found", reason="notFound")
            if method in ("PATCH", "PUT"):
                return self.patch_event(acct, event, query, replace=method == "PUT")
            if method == "DELETE":
                if not event:
                    return self.api_error(404, "Not Found", reason="notFound")
                if event["status"] == "cancelled":
                    return self.api_error(410, "Resource has been deleted", reason="deleted")
                event["status"] = "cancelled"
                bump(acct, event)
                return self.send(204)
        return self.api_error(404, "Not Found", reason="notFound")

    def list_events(self, acct, query):
        try:
            limit = max(1, min(2500, int(query.get("maxResults", "250"))))
        except ValueError:
            return self.api_error(400, "Invalid value for maxResults", reason="invalid")
        show_deleted = query.get("showDeleted") == "true"
        if "syncToken" in query and ("timeMin" in query or "timeMax" in query):
            return self.api_error(400, "Sync token cannot be used with timeMin or timeMax.", reason="invalid")
        # the page token carries where the listing stands: (since, top, offset, timeMin)
        if "pageToken" in query:
            try:
                state = json.loads(base64.urlsafe_b64decode(query["pageToken"] + "=" * (-len(query["pageToken"]) % 4)))
                since, top, offset, time_min = state["since"], state["top"], state["offset"], state.get("timeMin")
            except (ValueError, KeyError, TypeError):
                return self.api_error(400, "Invalid page token value.", reason="invalid")
        else:
            since, top, offset, time_min = None, acct["seq"], 0, query.get("timeMin")
            if "syncToken" in query:
                since = read_sync_token(acct, query["syncToken"])
                if since is None:
                    message = "Sync token is no longer valid, a full sync is required."
                    return self.send(410, {"error": {"errors": [{"domain": "global", "reason": "fullSyncRequired", "message": message}],
                                                     "code": 410, "message": message}})
            if time_min is not None and parse_time(time_min) is None:
                return self.api_error(400, "Bad Request", reason="badRequest")
        low = parse_time(time_min) if time_min else None
        events = sorted(acct["events"].values(), key=lambda e: e["_seq"])
        chosen = []
        for event in events:
            if event["_seq"] > top:
                continue
            if since is not None:
                # incremental: what changed since the token, deletions included
                if event["_seq"] <= since:
                    continue
            else:
                if event["status"] == "cancelled" and not show_deleted:
                    continue
                if low is not None:
                    _, end = event_bounds(event)
                    if end is not None and end <= low:
                        continue
            chosen.append(event)
        page_items = chosen[offset:offset + limit]
        answer = {"kind": "calendar#events", "etag": f'"{top}"', "summary": "", "updated": rfc3339(now()), "timeZone": CALENDAR_ZONE,
                  "accessRole": "owner", "defaultReminders": [], "items": [public(e) for e in page_items]}
        if offset + limit < len(chosen):
            token = {"since": since, "top": top, "offset": offset + limit, "timeMin": time_min}
            answer["nextPageToken"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")
        else:
            answer["nextSyncToken"] = sync_token(acct, top)
        return self.send(200, answer)

    def insert_event(self, email, acct, query):
        body = self.json_body()
        if body is None:
            return self.api_error(400, "Parse Error", reason="parseError")
        start, end = event_bounds(body)
        if start is None or end is None:
            return self.api_error(400, "Missing time zone definition for start time." if body.get("start") else "Missing start time.",
                                  reason="required")
        if end < start:
            return self.api_error(400, "The specified time range is empty.", reason="timeRangeEmpty")
        event_id = body.get("id")
        if event_id is not None:
            if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
                return self.api_error(400, "Invalid resource id value.", reason="invalid")
            if event_id in acct["events"]:
                return self.api_error(409, "The requested identifier already exists.", reason="duplicate")
        fields = dict(body)
        fields.pop("conferenceData", None)
        event = new_event(email, fields, event_id)
        create = (body.get("conferenceData") or {}).get("createRequest")
        if query.get("conferenceDataVersion") == "1" and create:
            meet(event, create.get("requestId") or secrets.token_hex(8))
        return self.send(200, public(event))

    def patch_event(self, acct, event, query, replace=False):
        if not event:
            return self.api_error(404, "Not Found", reason="notFound")
        body = self.json_body()
        if body is None:
            return self.api_error(400, "Parse Error", reason="parseError")
        fixed = {"kind", "id", "htmlLink", "created", "creator", "organizer", "iCalUID", "etag", "updated", "hangoutLink"}
        if replace:
            for key in [k for k in event if k not in fixed and not k.startswith("_") and k != "status"]:
                del event[key]
        for key, value in body.items():
            if key in fixed or key == "conferenceData":
                continue
            event[key] = value
        create = (body.get("conferenceData") or {}).get("createRequest")
        if query.get("conferenceDataVersion") == "1" and create and "hangoutLink" not in event:
            meet(event, create.get("requestId") or secrets.token_hex(8))
        event["sequence"] = event.get("sequence", 0) + 1
        bump(acct, event)
        return self.send(200, public(event))

    def free_busy(self, email):
        body = self.json_body()
        if body is None:
            return self.api_error(400, "Parse Error", reason="parseError")
        low, high = parse_time(body.get("timeMin")), parse_time(body.get("timeMax"))
        if low is None or high is None:
            return self.api_error(400, "Missing timeMin or timeMax.", reason="required")
        if high <= low:
            return self.api_error(400, "The specified time range is empty.", reason="timeRangeEmpty")
        calendars = {}
        for item in body.get("items") or []:
            calendar_id = (item or {}).get("id", "")
            if calendar_id in ("primary", email):
                calendars[calendar_id] = {"busy": busy_of(email, low, high)}
            else:
                calendars[calendar_id] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
        return self.send(200, {"kind": "calendar#freeBusy", "timeMin": rfc3339(low), "timeMax": rfc3339(high), "calendars": calendars})

    # ---------------------------------------------------------------- the sandbox's own controls

    def control(self, method, rest, query):
        if rest == ["consent.css"]:
            return self.send(200, CONSENT_CSS, "text/css; charset=utf-8")
        if not rest and method == "GET":
            return self.send(200, {"clients": sorted(CLIENTS), "accounts": [account_view(e) for e in sorted(ACCOUNTS)]})
        if len(rest) < 2 or rest[0] != "accounts" or not EMAIL.match(rest[1]):
            return self.send(404, {"error": {"code": 404, "message": "No such sandbox control."}})
        email = rest[1].lower()
        acct = account(email)
        action = rest[2:]
        if not action and method == "GET":
            return self.send(200, account_view(email))
        if action == ["events"] and method == "GET":
            return self.send(200, {"items": [public(e) for e in sorted(acct["events"].values(), key=lambda e: e["_seq"])]})
        if action == ["events"] and method == "POST":
            body = self.json_body()
            if body is None:
                return self.send(400, {"error": {"code": 400, "message": "A JSON object is expected."}})
            for key in ("start", "end"):
                if isinstance(body.get(key), str):
                    body[key] = {"dateTime": body[key]}
            start, end = event_bounds(body)
            if start is None or end is None or end <= start:
                return self.send(400, {"error": {"code": 400, "message": "start and end are RFC 3339 times, end after start."}})
            event_id = body.get("id")
            if event_id is not None and (not isinstance(event_id, str) or not EVENT_ID.match(event_id) or event_id in acct["events"]):
                return self.send(409, {"error": {"code": 409, "message": "The requested identifier already exists or is invalid."}})
            body.setdefault("summary", "Busy (sandbox)")
            return self.send(201, public(new_event(email, body, event_id)))
        if len(action) == 2 and action[0] == "events" and method == "DELETE":
            event = acct["events"].get(action[1])
            if not event or event["status"] == "cancelled":
                return self.send(404, {"error": {"code": 404, "message": "No such event."}})
            event["status"] = "cancelled"
            bump(acct, event)
            return self.send(204)
        if action == ["revoke"] and method == "POST":
            count = 0
            for token, row in REFRESH.items():
                if row["email"] == email and not row["revoked"]:
                    row["revoked"] = True
                    count += 1
            for row in ACCESS.values():
                if row["email"] == email:
                    row["revoked"] = True
            return self.send(200, {"revokedRefreshTokens": count, **account_view(email)})
        if action == ["expire-access-tokens"] and method == "POST":
            count = 0
            for row in ACCESS.values():
                if row["email"] == email and row["expires"] > time.time():
                    row["expires"] = time.time() - 1
                    count += 1
            return self.send(200, {"expiredAccessTokens": count, **account_view(email)})
        if action == ["invalidate-sync-tokens"] and method == "POST":
            acct["epoch"] = secrets.token_hex(4)
            return self.send(200, account_view(email))
        return self.send(404, {"error": {"code": 404, "message": "No such sandbox control."}})


def main():
    parser = argparse.ArgumentParser(description="A loopback stand-in for Google's OAuth and Calendar API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--client-id", default=os.environ.get("SANDBOX_GOOGLE_CLIENT_ID", "sandbox-client"))
    arguments = parser.parse_args()
    secret = os.environ.get("SANDBOX_GOOGLE_CLIENT_SECRET", "sandbox-secret")
    CLIENTS[arguments.client_id] = secret
    server = ThreadingHTTPServer((arguments.host, arguments.port), Handler)
    server.daemon_threads = True
    sys.stderr.write(f"sandbox Google on http://{arguments.host}:{arguments.port} (client {arguments.client_id})\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
