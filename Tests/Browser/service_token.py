"""A token of another Sokoni service (role `service`), as ServiceTokens mints it: signed with the platform's shared
service key (`JWT_SERVICE_KEY` in the secrets file next to the demo file) by a small Ed25519 (RFC 8032) in plain
Python, nothing to install. Tests use it where only a service may call (usage credits, the CRM's events)."""
import base64
import hashlib
import json
import os
import pathlib
import time
import uuid

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_I = pow(2, (_P - 1) // 4, _P)


def _x(y):
    xx = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    x = pow(xx, (_P + 3) // 8, _P)
    if (x * x - xx) % _P:
        x = x * _I % _P
    return _P - x if x % 2 else x


_BY = 4 * pow(5, _P - 2, _P) % _P
_B = (_x(_BY), _BY, 1, _x(_BY) * _BY % _P)


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _encode(p):
    zi = pow(p[2], _P - 2, _P)
    x, y = p[0] * zi % _P, p[1] * zi % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def ed25519_sign(seed, message):
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    public = _encode(_mul(a, _B))
    r = int.from_bytes(hashlib.sha512(digest[32:] + message).digest(), "little") % _L
    big_r = _encode(_mul(r, _B))
    k = int.from_bytes(hashlib.sha512(big_r + public + message).digest(), "little") % _L
    return big_r + int.to_bytes((r + k * a) % _L, 32, "little")


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def secrets_file():
    demo = pathlib.Path(os.environ.get("SOKONI_DEMO_JSON", pathlib.Path(__file__).resolve().parents[2] / ".local" / "demo.json"))
    return demo.parent / "secrets.env"


def mint(subject="service:agent-core", seconds=600):
    """A service token of `subject`, valid for `seconds`; None when the platform's secrets file is not at hand."""
    secrets = secrets_file()
    if not secrets.exists():
        return None
    values = dict(line.split("=", 1) for line in secrets.read_text().splitlines() if "=" in line)
    seed_text = values["JWT_SERVICE_KEY"].strip().strip("'\"")
    seed = base64.urlsafe_b64decode(seed_text + "=" * (-len(seed_text) % 4))
    now = int(time.time())
    header = {"alg": "EdDSA", "typ": "JWT", "kid": "service"}
    claims = {"sub": subject, "roles": ["service"], "aud": "sokoni", "iss": "sokoni-gateway",
              "iat": now, "exp": now + seconds, "jti": str(uuid.uuid4())}
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing}.{_b64(ed25519_sign(seed, signing.encode()))}"
