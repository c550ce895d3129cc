"""The one HTTP call the Python WHIP/WHEP test clients make (urllib only).

http(method, url, token, body=None, ctype=None, timeout=15) returns
(status, headers as a dict, body as text); an HTTP error status is returned
like any other, not raised.
"""
import urllib.error
import urllib.request


def http(method, url, token, body=None, ctype=None, timeout=15):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, dict(res.headers), res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()
