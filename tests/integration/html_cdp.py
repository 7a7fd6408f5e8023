#!/usr/bin/python3
"""html_cdp.py - drive snapalloc's HTML report in a real browser (Debian's
chromium, headless) through the DevTools protocol (python3-websocket), for
tests/integration/cli_html.sh.

Usage: html_cdp.py CHROMIUM PAGE.html SCREENSHOT.png [ACTION ARG]...

Loads file://PAGE and records what the page shows ("load": the snapshot it
opened on, its flame graph's total, the frames drawn and their labels),
then performs each ACTION in order and records the page after it, under
the action's name without its dashes:
  --search TEXT, --search2 TEXT   TEXT typed into the emptied search box
           (Input.insertText: real input events): the matched bytes and
           blocks it prints, frames lit and dimmed
  --click-marker I   a real mouse click on snapshot marker I of the
           timeline: the snapshot shown and its flame graph's total
  --click-frame TEXT   a click on the first drawn frame whose label starts
           with TEXT: the zoomed flame graph's frames
then:
  requests every URL the page requested (Network.requestWillBeSent) before
           the probe below
  csp      a fetch and an image to http://127.0.0.1:9/ from inside the page:
           blocked by the page's Content-Security-Policy?
and saves a screenshot.  Prints one JSON object on stdout; exit 1 with a
message on stderr when the browser cannot be driven.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket


class Browser:
    def __init__(self, chromium, workdir):
        self.ud = os.path.join(workdir, "profile")
        self.err = open(os.path.join(workdir, "chromium.err"), "w")
        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             "--user-data-dir=" + self.ud, "--window-size=1280,1100", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err)
        port_file = os.path.join(self.ud, "DevToolsActivePort")
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port))
        page = [t for t in targets if t.get("type") == "page"][0]
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, name, timeout=60):
        deadline = time.time() + timeout
        seen = len([e for e in self.events if e["method"] == name])
        if seen:
            return
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == name:
                    return
        raise RuntimeError("no %s within %ds" % (name, timeout))

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("page script failed: %s" % json.dumps(r["exceptionDetails"])[:400])
        return r["result"].get("value")

    def click(self, selector):
        rect = self.js("""(function () {
            var e = document.querySelector(%s);
            if (!e) return null;
            e.scrollIntoView({block: 'center'});
            var r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2];
        })()""" % json.dumps(selector))
        if rect is None:
            raise RuntimeError("nothing matches %s" % selector)
        x, y = rect
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left",
                  clickCount=1)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left",
                  clickCount=1)

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.err.close()


STATE = """(function () {
    var app = document.getElementById('app'), flame = document.getElementById('flame');
    var res = document.getElementById('search-result');
    return {rendered: document.body.getAttribute('data-rendered'),
            error: (document.getElementById('error') || {}).textContent || null,
            snapshot: app.hasAttribute('data-snapshot') ? +app.getAttribute('data-snapshot') : null,
            flame_total: flame ? +flame.getAttribute('data-total') : null,
            frames_drawn: flame ? flame.querySelectorAll('.fr').length : 0,
            frames_lit: flame ? flame.querySelectorAll('.fr.hit').length : 0,
            frames_dim: flame ? flame.querySelectorAll('.fr.dim').length : 0,
            labels: flame ? Array.prototype.map.call(flame.querySelectorAll('.fr'),
                                                     function (e) { return e.textContent; }) : [],
            search_bytes: res && res.getAttribute('data-bytes') !== '' ? +res.getAttribute('data-bytes') : null,
            search_count: res && res.getAttribute('data-count') !== '' ? +res.getAttribute('data-count') : null,
            search_text: res ? res.textContent : null};
})()"""

CSP_PROBE = """new Promise(function (done) {
    var violations = [];
    document.addEventListener('securitypolicyviolation', function (e) {
        violations.push(e.violatedDirective + ' ' + e.blockedURI);
    });
    var img = new Image();
    img.src = 'http://127.0.0.1:9/probe.png';
    fetch('http://127.0.0.1:9/probe').then(function () { return true; }, function () { return false; })
        .then(function (fetched) {
            setTimeout(function () { done({fetched: fetched, violations: violations}); }, 300);
        });
})"""


def main(argv):
    chromium, page, shot = argv[1:4]
    actions = list(zip(argv[4::2], argv[5::2]))
    work = tempfile.mkdtemp(prefix="sa-cdp.")
    out = {}
    b = Browser(chromium, work)
    try:
        b.call("Page.enable")
        b.call("Network.enable")
        b.call("Runtime.enable")
        url = "file://" + os.path.abspath(page)
        b.call("Page.navigate", url=url)
        b.wait_event("Page.loadEventFired")
        out["url"] = url
        out["load"] = b.js(STATE)
        for action, arg in actions:
            if action.startswith("--search"):
                b.js("var s = document.getElementById('search'); s.value = '';"
                     "s.dispatchEvent(new Event('input')); s.focus()")
                b.call("Input.insertText", text=arg)
                out[action[2:]] = b.js(STATE)
            elif action == "--click-marker":
                b.click("#marker-" + arg)
                out["marker"] = b.js(STATE)
            elif action == "--click-frame":
                sel = b.js("""(function () {
                    var fs = document.querySelectorAll('#flame .fr');
                    for (var i = 0; i < fs.length; i++)
                        if (fs[i].textContent.indexOf(%s) === 0) return fs[i].getAttribute('data-i');
                    return null; })()""" % json.dumps(arg))
                if sel is None:
                    raise RuntimeError("no drawn frame named %s" % arg)
                b.click('#flame .fr[data-i="%s"]' % sel)
                out["frame"] = b.js(STATE)
            else:
                raise RuntimeError("unknown action %s" % action)
        png = b.call("Page.captureScreenshot", format="png")
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png["data"]))
        out["requests"] = [e["params"]["request"]["url"] for e in b.events
                           if e["method"] == "Network.requestWillBeSent"]
        before = len(b.events)
        out["csp"] = b.js(CSP_PROBE)
        failed = {e["params"]["requestId"]: e["params"].get("blockedReason")
                  for e in b.events[before:] if e["method"] == "Network.loadingFailed"}
        out["csp"]["probe_requests"] = [
            {"url": e["params"]["request"]["url"], "blocked": failed.get(e["params"]["requestId"])}
            for e in b.events[before:] if e["method"] == "Network.requestWillBeSent"]
        out["csp"]["responses"] = [e["params"]["response"]["url"] for e in b.events[before:]
                                   if e["method"] == "Network.responseReceived"]
    finally:
        b.close()
        shutil.rmtree(work, ignore_errors=True)
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # one line for the test's log
        print("html_cdp.py: %s" % e, file=sys.stderr)
        sys.exit(1)
