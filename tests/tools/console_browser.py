#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""console_browser.py: drive the hub's web console in headless Chromium through
chromedriver's W3C WebDriver HTTP API (urllib only), as tests/integration/
test_console_browser.sh sets it up.

  console_browser.py --url https://127.0.0.1:PORT --viewer TOKEN --responder TOKEN
                     --out DIR --xss-rule RULE --publish CMD [--chromedriver PATH]

Prints "ok   ..." per check, "FAIL: ..." per failure, "figure: ..." for measured
figures; exit 0 when every check passed, 1 otherwise. Screenshots go to --out.
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ELEM = "element-6066-11e4-a52e-4f735466cecf"
FAILS = []


def ok(msg):
    print("ok   " + msg, flush=True)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    FAILS.append(msg)


class WebDriverError(Exception):
    pass


class Driver:
    def __init__(self, chromedriver, tmp):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = open(os.path.join(tmp, "chromedriver.log"), "w")
        self.proc = subprocess.Popen([chromedriver, "--port=%d" % self.port, "--allowed-ips=127.0.0.1"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(300):
            try:
                self.req("GET", "/status")
                break
            except Exception:
                if self.proc.poll() is not None:
                    raise WebDriverError("chromedriver exited")
                time.sleep(0.1)
        else:
            raise WebDriverError("chromedriver did not answer within 30 s")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            # the hub's certificate is made by the test for 127.0.0.1 and signed by a CA of its own
            "acceptInsecureCerts": True,
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1400,1000", "--no-first-run", "--disable-extensions",
                         "--user-data-dir=" + os.path.join(tmp, "profile")],
            }}}}
        r = self.req("POST", "/session", caps, timeout=120)
        self.sid = r["sessionId"] if "sessionId" in r else r["value"]["sessionId"]

    def req(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        rq = urllib.request.Request(self.base + path, data=data, method=method,
                                    headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(rq, timeout=timeout) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise WebDriverError("%s %s: %s" % (method, path, e.read()[:500]))

    def s(self, method, path, body=None, timeout=60):
        return self.req(method, "/session/%s%s" % (self.sid, path), body, timeout)["value"]

    def go(self, url):
        # Chromium fails a load that a change of this machine's network interfaces
        # interrupts (ERR_NETWORK_CHANGED; other tests make and remove interfaces):
        # a page that is not the console's is loaded again, at most 3 times
        for _ in range(3):
            self.s("POST", "/url", {"url": url})
            if self.js("return document.getElementById('main') !== null"):
                return
            time.sleep(0.5)
        raise WebDriverError("cannot load %s: %s" % (url, self.js("return document.body ? document.body.innerText.slice(0, 200) : ''")))

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEM]

    def click(self, css):
        self.s("POST", "/element/%s/click" % self.find(css), {})

    def type(self, css, text):
        e = self.find(css)
        self.s("POST", "/element/%s/clear" % e, {})
        self.s("POST", "/element/%s/value" % e, {"text": text})

    def wait(self, script, what, secs=30, *args):
        end = time.time() + secs
        last = None
        while time.time() < end:
            try:
                last = self.js(script, *args)
                if last:
                    return last
            except WebDriverError as e:
                last = str(e)
            time.sleep(0.1)
        raise WebDriverError("timed out (%d s) waiting for %s (last: %r)" % (secs, what, last))

    def loaded(self, what):
        """wait until the console's view for the current location has loaded"""
        return self.wait("var v = document.getElementById('view'); return v.getAttribute('data-loaded') === (location.hash || '#/alerts')"
                         " || document.getElementById('view-error') !== null", what)

    def shot(self, out, name):
        png = base64.b64decode(self.s("GET", "/screenshot"))
        with open(os.path.join(out, name + ".png"), "wb") as f:
            f.write(png)

    def logs(self):
        for path in ("/se/log", "/log"):
            try:
                return self.s("POST", path, {"type": "browser"})
            except WebDriverError:
                continue
        return []

    def quit(self):
        try:
            self.req("DELETE", "/session/%s" % self.sid, timeout=30)
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def check(cond, msg):
    (ok if cond else fail)(msg)
    return cond


def login(d, token):
    d.wait("return !document.getElementById('login-view').hidden", "the login form")
    d.type("#token", token)
    d.click("#login-btn")


def run_profiles(d, a):
    """the Profiles page (test_fleet_profiles.sh): a viewer sees the merged profile, its items
    and nodes, and no mode control; a responder sets the mode, which the hub confirms"""
    url = a.url.rstrip("/")
    d.go(url + "/")
    login(d, a.viewer)
    d.wait("return document.getElementById('whoami').getAttribute('data-role') === 'viewer'", "the viewer's session")
    d.go(url + "/#/profiles")
    d.loaded("the profiles page")
    keys = d.js("return Array.from(document.querySelectorAll('tr.profile-row')).map(function (r) { return r.getAttribute('data-key'); })")
    check(a.profile_key in keys, "the profile is listed (%s)" % keys)
    d.shot(a.out, "profiles-01-list")
    d.go(url + "/#/profile/" + a.profile_key)
    d.loaded("the profile's page")
    kinds = d.js("return Array.from(document.querySelectorAll('table.profile-items')).map(function (t) { return t.getAttribute('data-kind'); })")
    check(len(kinds) > 0, "the profile's items are shown by kind (%s)" % kinds)
    nodes = d.js("return document.querySelectorAll('#profile-nodes tr').length - 1")
    check(nodes >= 2, "the nodes that sent it are shown (%d)" % nodes)
    check(d.js("return document.getElementById('profile-mode') === null"), "a viewer has no mode control")
    d.shot(a.out, "profiles-02-viewer")
    d.click("#logout")
    login(d, a.responder)
    d.wait("return document.getElementById('whoami').getAttribute('data-role') === 'responder'", "the responder's session")
    d.go(url + "/#/profile/" + a.profile_key)
    d.loaded("the profile's page, as a responder")
    d.js("var s = document.getElementById('profile-mode'); s.value = arguments[0]; return true", a.set_mode)
    d.click("#profile-mode-set")
    d.wait("return document.getElementById('profile-mode-status').textContent.indexOf('set to') === 0"
           " || document.getElementById('profile-mode-status').textContent.indexOf('Error') === 0", "the mode's answer")
    st = d.js("return document.getElementById('profile-mode-status').textContent")
    check(st.startswith("set to " + a.set_mode), "a responder sets the mode (%s)" % st)
    d.shot(a.out, "profiles-03-responder")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--viewer", required=True)
    ap.add_argument("--responder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--xss-rule")
    ap.add_argument("--publish", help="a program that publishes one more alert (rule 'Console live probe')")
    ap.add_argument("--render-only", action="store_true", help="only time the first render and an alert's page (bench)")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    ap.add_argument("--agent", action="store_true",
                    help="a single agent's console (vigil run --console): log in, see --rule's alert, the nodes page")
    ap.add_argument("--rule", help="with --agent: the rule of an alert the agent stored")
    ap.add_argument("--evidence-rule", help="with --agent: the rule of a capture alert whose bundle to download")
    ap.add_argument("--profile-key", help="the Profiles page: a profile's bucket key the hub holds (needs --responder)")
    ap.add_argument("--set-mode", default="learning", help="with --profile-key: the mode the responder sets")
    ap.add_argument("--image-digest", help="the digest of the one image scan published (the Images page)")
    ap.add_argument("--sbom-bytes", type=int, default=0, help="the size of its SBOM")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="console-browser-")
    d = Driver(a.chromedriver, tmp)
    try:
        run(d, a)
    except WebDriverError as e:
        fail(str(e))
        try:
            d.shot(a.out, "failure")
        except Exception:
            pass
    finally:
        try:
            for entry in d.logs():
                m = entry.get("message", "")
                with open(os.path.join(a.out, "browser.log"), "a") as f:
                    f.write("%s %s\n" % (entry.get("level"), m))
                if "Content Security Policy" in m or "Refused to" in m:
                    fail("the browser reported a CSP violation: " + m[:300])
                elif entry.get("level") == "SEVERE" and "Uncaught" in m:
                    fail("a script error: " + m[:300])
        except Exception as e:
            print("note: cannot read the browser's log: %s" % e)
        d.quit()
    return 1 if FAILS else 0


def first_render(d):
    """submit the login form (the token typed) and time, in the page, the alert table and the chart"""
    d.js("""window.__t0 = performance.now(); window.__tt = null; window.__tc = null;
      new MutationObserver(function (m, o) {
        if (window.__tt === null && document.querySelector('tr.alert-row')) window.__tt = performance.now();
        if (window.__tc === null && document.querySelector('#chart-svg')) window.__tc = performance.now();
        if (window.__tt !== null && window.__tc !== null) o.disconnect();
      }).observe(document.body, {childList: true, subtree: true});""")
    d.click("#login-btn")
    d.wait("return window.__tt !== null && window.__tc !== null", "the first alert rows and the chart", 120)
    t = d.js("return [window.__tt - window.__t0, window.__tc - window.__t0]")
    print("figure: first render: login submitted to alert table drawn %.0f ms, to counts chart drawn %.0f ms" % (t[0], t[1]), flush=True)
    return t


def render_only(d, a):
    d.go(a.url.rstrip("/") + "/")
    d.wait("return !document.getElementById('login-view').hidden", "the login form")
    d.type("#token", a.viewer)
    first_render(d)
    d.shot(a.out, "bench-alerts")
    # an alert's page: from the click to its tree, actions and neighbours
    d.js("""window.__a0 = performance.now(); document.querySelector('tr.alert-row').click();""")
    d.loaded("the alert page")
    print("figure: alert page (click to every part loaded): %.0f ms" % d.js("return performance.now() - window.__a0"), flush=True)
    d.shot(a.out, "bench-alert")


def run_agent(d, a):
    """a single agent's console (test_console_agent.sh): log in as a viewer, the alert table
    shows the agent's alert, its page opens, the nodes page shows the one node"""
    url = a.url.rstrip("/")
    d.go(url + "/")
    login(d, a.viewer)
    d.wait("return document.querySelectorAll('tr.alert-row').length > 0", "the alert table", 60)
    rules = d.js("return Array.from(document.querySelectorAll('tr.alert-row td.rule')).map(function (t) { return t.textContent; })")
    check(a.rule in rules, "the agent's alert is in the table (%s)" % sorted(set(rules)))
    d.shot(a.out, "agent-01-alerts")
    d.go(url + "/#/alerts?rule=" + urllib.request.quote(a.rule))
    d.loaded("the rule's alerts")
    d.click("tr.alert-row")
    d.wait("return location.hash.indexOf('#/alert/') === 0", "the alert's address")
    d.loaded("the alert page")
    check(a.rule in d.js("return document.getElementById('view').textContent"), "the alert's page names its rule")
    d.shot(a.out, "agent-02-alert")
    if a.evidence_rule:
        # a capture's alert: its action row offers the bundle, fetched with the token and saved
        d.go(url + "/#/alerts?rule=" + urllib.request.quote(a.evidence_rule))
        d.loaded("the capture rule's alerts")
        d.click("tr.alert-row")
        d.wait("return location.hash.indexOf('#/alert/') === 0", "the capture alert's address")
        d.wait("return document.querySelectorAll('button.evidence-download').length > 0", "the evidence button", 60)
        d.click("button.evidence-download")
        d.wait("var s = document.querySelector('.evidence-status'); return !!s && s.textContent.indexOf('downloading') < 0 && s.textContent.length > 0",
               "the evidence download", 60)
        got = d.js("var s = document.querySelector('.evidence-status'); return [s.textContent, s.getAttribute('data-bytes')]")
        check(got[1] is not None and int(got[1]) > 1024, "the evidence bundle downloads in the browser (%s)" % got[0])
        d.shot(a.out, "agent-02b-evidence")
    d.go(url + "/#/nodes")
    d.loaded("the nodes page")
    badges = d.js("return Array.from(document.querySelectorAll('#view span.badge')).map(function (b) { return b.textContent; })")
    check(badges == ["ok"], "the nodes page shows the one node, ok (%s)" % badges)
    d.shot(a.out, "agent-03-nodes")


def run(d, a):
    if a.agent:
        return run_agent(d, a)
    if a.profile_key:
        return run_profiles(d, a)
    if a.render_only:
        return render_only(d, a)
    url = a.url.rstrip("/")
    # --- first render: login, then the first alert rows, timed in the page ---
    d.go(url + "/")
    login(d, "not-a-valid-token-0123456789")
    d.wait("return document.getElementById('login-error').textContent.length > 0", "the login error")
    check("not valid" in d.js("return document.getElementById('login-error').textContent"),
          "a wrong token is refused on the login form")
    check(d.js("return sessionStorage.getItem('vigil.token')") is None, "a refused token is not kept")
    d.shot(a.out, "01-login")
    d.type("#token", a.viewer)
    first_render(d)
    check(d.js("return document.getElementById('whoami').textContent").endswith("viewer"), "logged in as a viewer")
    check(d.js("return sessionStorage.getItem('vigil.token')") == a.viewer, "the token is kept in sessionStorage")
    check(d.js("return document.scripts.length") == 1, "one script in the page (app.js), none inline")
    nrows = d.js("return document.querySelectorAll('tr.alert-row').length")
    check(nrows > 0, "the alert table shows %d alerts" % nrows)
    check(d.js("return document.querySelectorAll('#chart-svg rect.bar').length") > 0, "the counts chart has bars")
    d.shot(a.out, "02-alerts")

    # --- paging: 50 a page through the API's cursors, forward and back ---
    first = lambda: d.js("var r = document.querySelector('tr.alert-row'); return r ? r.getAttribute('data-uuid') : null")
    info = lambda: d.js("return document.getElementById('page-info').textContent")
    p1 = first()
    d.click("#next-page")
    d.loaded("page 2")
    p2 = first()
    check(info() == "50 on this page" and p2 != p1, "next page: 50 more alerts")
    d.click("#next-page")
    d.loaded("page 3")
    check(info().startswith("2") and d.js("return document.getElementById('next-page') === null"),
          "the last page has the rest and no next (%s)" % info())
    d.click("#prev-page")
    d.loaded("page 2 again")
    check(first() == p2, "previous page: back to page 2")
    d.click("#first-page")
    d.loaded("page 1 again")
    check(first() == p1, "first page again")

    # --- filters ---
    d.type("#f-rule", a.xss_rule)
    d.click("#apply")
    d.wait("var r = arguments[0]; return location.hash.indexOf('rule=') > 0 && document.querySelectorAll('tr.alert-row').length > 0"
           " && Array.from(document.querySelectorAll('tr.alert-row td.rule')).every(function (t) { return t.textContent === r; })",
           "rows of the rule only", 30, a.xss_rule)
    rules = d.js("return Array.from(document.querySelectorAll('tr.alert-row td.rule')).map(function (t) { return t.textContent; })")
    check(len(rules) == 1 and rules[0] == a.xss_rule, "the rule filter leaves its one alert (%d rows)" % len(rules))
    d.go(url + "/#/alerts?tactic=execution")
    d.loaded("the tactic filter")
    tac = d.js("return Array.from(document.querySelectorAll('tr.alert-row td.rule')).map(function (t) { return t.textContent; })")
    check(len(tac) >= 1 and all(r in (a.xss_rule, "Console shell probe") for r in tac),
          "the MITRE tactic filter keeps the tagged alerts only (%s)" % sorted(set(tac)))
    d.go(url + "/#/alerts?priority=critical&node=node-a")
    d.loaded("the priority filter")
    pr = d.js("return Array.from(document.querySelectorAll('tr.alert-row td.prio')).map(function (t) { return t.textContent; })")
    check(len(pr) > 0 and all(p in ("Critical", "Alert", "Emergency") for p in pr), "priority at least critical: %s" % sorted(set(pr)))
    d.shot(a.out, "03-filtered")

    # --- the XSS alert's page: its process tree, shown as text ---
    d.go(url + "/#/alerts?rule=" + urllib.request.quote(a.xss_rule))
    d.loaded("the XSS alert row")
    d.click("tr.alert-row")
    d.wait("return location.hash.indexOf('#/alert/') === 0", "the alert's address")
    d.loaded("the alert page")
    tree = d.js("return Array.from(document.querySelectorAll('#proc-tree li.proc-node > .proc')).map(function (e) { return e.textContent; })")
    check(len(tree) == 4, "the process tree has the 3 ancestors and the process (%d levels)" % len(tree))
    check(tree and tree[0].startswith("systemd") and tree[-1].startswith("sh"), "the tree runs from the root (systemd) to the process (sh)")
    depth = d.js("return document.querySelectorAll('#proc-tree ul ul ul li').length")
    check(depth == 1, "the tree is nested (the process 3 levels below the root)")
    payload_img = '<img src=x onerror="window.__xss=1">'
    payload_script = "<script>window.__xss=2</script>"
    text = d.js("return document.getElementById('proc-tree').textContent")
    check(payload_img in text and payload_script in text, "the command line's HTML is shown as text")
    check(payload_img in d.js("return document.getElementById('alert-output').textContent"), "the output's HTML is shown as text")
    check(d.js("return document.querySelectorAll('img').length") == 0, "no <img> element was injected")
    check(d.js("return document.scripts.length") == 1, "no <script> element was injected")
    check(d.js("return typeof window.__xss") == "undefined", "no injected script ran")
    check(d.js("return document.getElementById('container-ctx').textContent").find("payments") >= 0,
          "the Kubernetes context is shown")
    check(d.js("return document.getElementById('actions').textContent").find("isolate") >= 0,
          "the actions taken are shown with their outcome")
    check(d.js("return document.getElementById('nearby-table') !== null && document.querySelectorAll('#nearby-table tr.alert-row').length >= 1"),
          "other alerts of the same container are listed")
    # a viewer: no ack, no release; the API refuses the ack
    check(d.js("return document.getElementById('ack-btn') === null"), "a viewer has no acknowledge button")
    check(d.js("return document.getElementById('release-btn') === null && document.getElementById('thaw-btn') === null"),
          "a viewer has no release/thaw buttons")
    uuid = d.js("return location.hash.split('/').pop()")
    st = d.js("return fetch('/api/v1/alerts/' + arguments[0] + '/ack', {method: 'POST', headers: {Authorization: 'Bearer ' + sessionStorage.getItem('vigil.token')}}).then(function (r) { return r.status; })", uuid)
    check(st == 403, "the API refuses a viewer's acknowledgement (%s)" % st)
    d.shot(a.out, "04-alert-xss-viewer")

    # --- logout ---
    d.click("#logout")
    d.wait("return !document.getElementById('login-view').hidden", "the login form after logout")
    check(d.js("return sessionStorage.getItem('vigil.token')") is None, "logout forgets the token")

    # --- responder: acknowledge, release ---
    d.type("#token", a.responder)
    d.click("#login-btn")
    d.wait("return document.getElementById('whoami').textContent.endsWith('responder') && document.getElementById('ack-btn')",
           "the alert page as a responder")
    d.click("#ack-btn")
    d.wait("return document.getElementById('ack-status').textContent.indexOf('acknowledged by bob') === 0", "the acknowledgement")
    ok("a responder acknowledges the alert; the page says by whom")
    check(d.js("return document.getElementById('release-btn') !== null && document.getElementById('thaw-btn') !== null"),
          "a responder has release/thaw buttons")
    d.click("#release-btn")
    d.wait("return /^release: (?!sending)/.test(document.getElementById('cmd-status').textContent)", "the release answer")
    print("note: release answered: " + d.js("return document.getElementById('cmd-status').textContent"), flush=True)
    d.shot(a.out, "05-alert-acked-responder")
    d.go(url + "/#/alerts?rule=" + urllib.request.quote(a.xss_rule))
    d.wait("return document.querySelector('tr.alert-row .badge.acked') !== null", "the acked badge in the table")
    ok("the table shows the acknowledgement")

    # --- live: a new alert arrives through the stream ---
    d.go(url + "/#/alerts")
    d.wait("return document.getElementById('live').textContent === 'live'", "the live stream", 30)
    subprocess.run([a.publish], check=True, stdout=subprocess.DEVNULL)
    d.wait("return Array.from(document.querySelectorAll('tr.alert-row.fresh td.rule')).some(function (t) { return t.textContent === 'Console live probe'; })",
           "the new alert from the stream", 60)
    ok("a new alert appears live (server-sent events read with fetch and the bearer token)")
    d.shot(a.out, "06-live")

    # --- nodes ---
    d.go(url + "/#/nodes")
    d.wait("return document.querySelectorAll('#nodes-table tbody tr').length > 0", "the nodes table")
    nodes = d.js("return Array.from(document.querySelectorAll('#nodes-table tbody tr')).map(function (r) { return r.getAttribute('data-node'); })")
    check("node-a" in nodes, "the nodes page lists node-a (%d nodes)" % len(nodes))
    check(d.js("return document.querySelector('#nodes-table tr[data-node=\"fleet-00000\"] .badge').textContent") == "ok",
          "a node with a fresh heartbeat is ok")
    d.shot(a.out, "07-nodes")

    # --- service map: the hub's own /api/v1/servicemap over the flows two nodes published
    # (console_lib.sh): web-1 (node-a) -> db-0 (node-b) on 5432, seen by both; web-1 -> an
    # outside peer whose DNS name holds HTML
    d.go(url + "/#/map")
    d.wait("return document.getElementById('map-svg') || document.getElementById('view-error')", "the map or its error")
    check(d.js("return document.getElementById('map-svg') !== null"),
          "the map page draws the hub's service map (%s)" % d.js(
              "var e = document.getElementById('view-error'); return e ? e.textContent : ''"))
    labels = d.js("return Array.from(document.querySelectorAll('#map-svg g.node')).map(function (g) { return g.textContent; })")
    check(len(labels) == 3, "the map draws 3 nodes: %s" % labels)
    check(any("web-1" in l for l in labels) and any("db-0" in l for l in labels),
          "both nodes' workloads are on the map (the edge crosses nodes)")
    check(d.js("return document.querySelectorAll('#map-svg line.edge').length") == 2, "the map draws its 2 edges")
    check(d.js("return document.querySelectorAll('#map-svg g.node.alerting').length") == 1
          and int(d.js("return document.querySelector('#map-svg g.node.alerting text.alerts').textContent") or 0) >= 3,
          "the workload with alerts (web-1) is marked, with its count")
    w = d.js("return Array.from(document.querySelectorAll('#map-svg line.edge')).map(function (l) { return +l.getAttribute('stroke-width'); })")
    check(len(w) == 2 and max(w) > min(w), "edges are as wide as their bytes (%s)" % w)
    check(d.js("return document.querySelectorAll('img').length") == 0 and d.js("return typeof window.__xss") == "undefined",
          "a peer's name with HTML is shown as text")
    d.js("var g = document.querySelector('#map-svg g.node.alerting'); var r = g.getBoundingClientRect();"
         "var o = {bubbles: true, clientX: r.x + 5, clientY: r.y + 5, pointerId: 1};"
         "g.dispatchEvent(new PointerEvent('pointerdown', o)); g.dispatchEvent(new PointerEvent('pointerup', o));")
    d.wait("return document.getElementById('map-details').textContent.indexOf('web-1') >= 0", "the node's details")
    check(d.js("return document.querySelectorAll('#map-svg line.edge.hot').length") == 2, "selecting a node highlights its edges")
    check(d.js("return document.getElementById('map-alerts-link') !== null"), "a node with alerts links to its alerts")
    d.shot(a.out, "08-map")
    if a.image_digest:
        images_and_admissions(d, a)


def images_and_admissions(d, a):
    """the Images and Admission pages over what test_console_browser.sh published"""
    url = a.url
    d.go(url + "/#/images")
    d.loaded("the images page")
    rows = d.js("return Array.from(document.querySelectorAll('#images-table tbody tr')).map(function (r) { return r.getAttribute('data-digest'); })")
    check(rows == [a.image_digest], "the images page lists the scanned image (%s)" % rows)
    check(d.js("return document.querySelector('#images-table td.sev-critical').textContent") == "1"
          and d.js("return document.querySelector('#images-table td.sev-critical').classList.contains('some')"),
          "its critical count, marked")
    check(d.js("return document.querySelector('#images-table td.ref').textContent").find("<img") >= 0,
          "a reference with HTML is shown as text")
    d.shot(a.out, "09-images")
    d.click("#images-table tbody tr")
    d.wait("return location.hash.indexOf('#/image/') === 0", "the image's page")
    d.loaded("the image's page")
    check(d.js("return document.querySelectorAll('#vulns-table tbody tr').length") == 1
          and d.js("return document.querySelector('#vulns-table tbody tr').textContent").find("1.1.22-r4") >= 0,
          "the image's vulnerability with its fix")
    pk = d.js("return Array.from(document.querySelectorAll('#packages-table tbody tr td:first-child')).map(function (t) { return t.textContent; })")
    check(len(pk) == 2 and "<script>window.__xss=6</script>" in pk, "its packages, a name with a script shown as text")
    d.click("#sbom-download")
    got = d.wait("var s = document.getElementById('sbom-status'); return s.getAttribute('data-bytes') || (s.textContent.indexOf('Error') === 0 ? s.textContent : '')",
                 "the SBOM download")
    check(str(got) == str(a.sbom_bytes), "the SBOM downloads with the token (%s bytes)" % got)
    d.shot(a.out, "10-image")
    d.go(url + "/#/admissions")
    d.loaded("the admission page")
    check(d.js("return document.querySelectorAll('#admissions-table tbody tr').length") == 2, "the admission page lists 2 decisions")
    check(d.js("return document.querySelectorAll('#admissions-table tr.adm-row.denied').length") == 1
          and d.js("return document.querySelector('#admissions-table tr.denied td.name').textContent").find("<img") >= 0,
          "the denied decision is highlighted, its name with HTML shown as text")
    check(d.js("return document.querySelector('#admissions-table tr.denied td.reasons').textContent").find("privileged") >= 0,
          "with its reasons")
    d.go(url + "/#/admissions?allowed=false")
    d.loaded("the denied decisions")
    check(d.js("return document.querySelectorAll('#admissions-table tbody tr').length") == 1, "the decision filter")
    check(d.js("return document.querySelectorAll('img').length") == 0 and d.js("return typeof window.__xss") == "undefined",
          "no injected script ran on the images and admission pages")
    d.shot(a.out, "11-admissions")


if __name__ == "__main__":
    sys.exit(main())
