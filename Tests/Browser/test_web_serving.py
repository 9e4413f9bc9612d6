"""How the gateway serves the web apps, checked from a real Chromium: the security headers, versioned assets that
are cached while HTML is not, and a session whose refresh token no script can read."""
import re
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


def test_apps_are_served_with_strict_headers_and_versioned_assets(base_url):
    for app in ("admin", "station"):
        status, headers, html = fetch(f"{base_url}/{app}/")
        assert status == 200
        assert headers["Cache-Control"] == "no-cache"
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "object-src 'none'" in csp and "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "<script>" not in html.replace(" ", ""), "no inline script"
        assets = re.findall(r'"/assets/([0-9a-f]{12})/([^"]+)"', html)
        assert assets, f"{app}: the HTML links no versioned asset"
        version, path = assets[0]
        status, headers, _ = fetch(f"{base_url}/assets/{version}/{path}")
        assert status == 200 and "immutable" in headers["Cache-Control"]
        # the same file unversioned is served but not cached for long
        status, headers, _ = fetch(f"{base_url}/assets/{path}")
        assert status == 200 and headers["Cache-Control"] == "no-cache"
        etag = headers["ETag"]
        assert fetch(f"{base_url}/assets/{path}", {"If-None-Match": etag})[0] == 304
    status, headers, _ = fetch(f"{base_url}/station/sw.js")
    assert status == 200 and headers["Service-Worker-Allowed"] == "/station/"
    assert fetch(f"{base_url}/assets/../Package.swift")[0] == 404
    assert fetch(f"{base_url}/assets/admin/nothing-here.js")[0] == 404


def test_the_refresh_token_is_a_cookie_no_script_reads(browser, base_url, api):
    driver = browser("desktop")
    driver.get(f"{base_url}/admin/")
    owner = api.user("owner@demo.sokoni.local")
    # sign in from the page's own origin with the shared session module, as the apps do
    result = driver.execute_async_script("""
        const [email, password, done] = arguments;
        import('/assets/shared/session.js').then(async ({ Session }) => {
          const session = new Session();
          await session.login(email, password);
          const me = session.me;
          const again = new Session();
          const resumed = await again.resume();          // what a reload does: only the cookie is left
          done({ cookies: document.cookie, roles: me.roles, resumed, resumedEmail: again.me && again.me.email,
                 stored: JSON.stringify(localStorage) + JSON.stringify(sessionStorage) });
        }, (error) => done({ error: String(error) }));
    """, owner["email"], owner["password"])
    assert "error" not in result, result
    assert result["roles"] == ["tenant_admin"]
    assert result["resumed"] is True and result["resumedEmail"] == owner["email"]
    assert "sokoni_refresh" not in result["cookies"], "the refresh cookie must be HttpOnly"
    assert "rt_" not in result["stored"] and "eyJ" not in result["stored"], "no token in web storage"
    # WebDriver lists only the cookies of the page's path; DevTools lists the one scoped to /v1/auth too
    cookies = driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    cookie = next((c for c in cookies if c["name"] == "sokoni_refresh"), None)
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/v1/auth"
