"""The control JWT op-sequencer checks (HS256, `iat` within 60 s), as op-node's and geth's JWT
clients send it: shared by the test scripts that call JWT-protected methods."""
import base64, hashlib, hmac, json, time


def secret_of(path):
    """The hex secret in `path` (jwt.hex), as bytes."""
    return bytes.fromhex(open(path).read().strip().removeprefix("0x"))


def token(secret):
    """A fresh bearer token for `secret`."""
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + b"." + b64(json.dumps({"iat": int(time.time())}).encode())
    return (head + b"." + b64(hmac.new(secret, head, hashlib.sha256).digest())).decode()
