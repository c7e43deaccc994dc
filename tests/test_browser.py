"""The built book works in a real browser, offline: math typesets, links and images resolve,
and the console stays clean.

Run after the book build (`make book`; `make browser` runs this):

    .venv/bin/pytest -q -m browser tests
    RNN_SITE_DIR=/tmp/x/_build/html .venv/bin/pytest -q -m browser tests   # another build

Each built page is one test, so a failure names the page. A screenshot of the index page goes to
the folder above the site (`_build/screenshot-index.png`). Needs /usr/bin/chromium and
/usr/bin/chromedriver (tools/install_chromium.sh); without them every test skips, loudly.
"""

from __future__ import annotations

import functools
import html
import os
import re
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_site = Path(os.environ.get("RNN_SITE_DIR", "_build/html"))
SITE = _site if _site.is_absolute() else ROOT / _site
SCREENSHOT = SITE.parent / "screenshot-index.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
MATHJAX_TIMEOUT_S = 30
WIDGET_TIMEOUT_S = 15

# Pages not written by us or not meant for reading; vendored assets live under _static.
SKIP_NAMES = {"genindex.html", "search.html", "py-modindex.html"}
SKIP_TOP_DIRS = {"_sources", "_static", "_vendor", "_assets", "_images", "_downloads"}

# Console errors every page of an unmodified sphinx-book-theme site shows; not ours to fix.
# Matched narrowly: the message must contain every fragment of one entry.
KNOWN_HARMLESS_CONSOLE = [
    # The theme declares THEBE_JS_URL inline twice ("const" redeclared).
    ("Uncaught SyntaxError: Identifier 'THEBE_JS_URL' has already been declared",),
    # pydata-sphinx-theme, on a fresh profile: "Got invalid theme mode: . Resetting to auto."
    ("pydata-sphinx-theme.js", "Got invalid theme mode", "Resetting to auto"),
    # (The third, a missing favicon, is gone: _config.yml sets html.favicon.)
]


def _pages() -> list[str]:
    if not SITE.is_dir():
        return ["<no site>"]
    pages = []
    for path in sorted(SITE.rglob("*.html")):
        rel = path.relative_to(SITE)
        if rel.name in SKIP_NAMES or rel.parts[0] in SKIP_TOP_DIRS:
            continue
        pages.append(rel.as_posix())
    return pages or ["<no pages>"]


PAGES = _pages()


# ---------------------------------------------------------------- fixtures: server and browser

class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(server):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip("!!! BROWSER CHECK SKIPPED: " + " and ".join(missing) + " missing. Raw TeX, "
                    "broken links and console errors go unnoticed. Run tools/install_chromium.sh "
                    "(as root) or apt-get install chromium chromium-driver. !!!")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.TemporaryDirectory(prefix="rnn-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1000",
                 f"--user-data-dir={profile.name}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path, so selenium-manager never tries to download anything.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(MATHJAX_TIMEOUT_S + 5)
    yield driver
    driver.quit()
    profile.cleanup()


# ---------------------------------------------------------------- HTTP checks, cached per run

@functools.lru_cache(maxsize=None)
def _fetch(url: str) -> tuple[int, str]:
    """(status, text for html pages or '') of a same-origin URL without fragment."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            kind = resp.headers.get_content_type()
            body = resp.read()
            return resp.status, body.decode("utf-8", "replace") if kind == "text/html" else ""
    except urllib.error.HTTPError as err:
        return err.code, ""


@functools.lru_cache(maxsize=None)
def _ids(url: str) -> frozenset[str]:
    text = _fetch(url)[1]
    return frozenset(html.unescape(m) for m in re.findall(r'\s(?:id|name)="([^"]+)"', text))


def _meta_refresh_target(page: str) -> str | None:
    """Jupyter Book's root index.html is only a redirect; return its target, relative to SITE."""
    text = (SITE / page).read_text(encoding="utf-8", errors="replace")
    m = re.search(r'http-equiv="Refresh"\s+content="\d+;\s*url=([^"]+)"', text, re.IGNORECASE)
    if not m:
        return None
    return urllib.parse.urljoin(page, m.group(1))


# ---------------------------------------------------------------- in-page JavaScript

WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + arguments[0] * 1000;
let loadedAt = null;  // the deferred MathJax script has run (or failed) once the page is loaded
(function poll() {
  const mj = window.MathJax;
  if (document.readyState === "complete" && loadedAt === null) loadedAt = Date.now();
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => done("typeset"), (e) => done("error: " + e));
  } else if (loadedAt !== null && !mj) {
    done("no-mathjax");
  } else if ((loadedAt !== null && Date.now() - loadedAt > 2000) || Date.now() > deadline) {
    done(mj ? "MathJax configured but never started (was its script loaded?)"
            : "MathJax never appeared");
  } else {
    setTimeout(poll, 50);
  }
})();
"""

PAGE_FACTS = """
const skip = "pre, code, script, style, textarea, mjx-container, .highlight";
const raw = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (!el || el.closest(skip) || el.getClientRects().length === 0) continue;
  const text = node.textContent;
  const i = text.search(/\\\\\\(|\\\\\\[|\\$\\$/);
  if (i >= 0) raw.push(text.slice(Math.max(0, i - 30), i + 50).replace(/\\s+/g, " "));
}
// MathJax 3 shows an undefined macro as red text (its noundefined extension), not as an error.
const undefinedMacros = [];
const mj = window.MathJax;
if (mj && mj.startup && mj.startup.document && mj.startup.document.math) {
  for (const item of mj.startup.document.math) {
    if (!item.root) continue;
    item.root.walkTree((node) => {
      if (node.isKind("mtext") && node.attributes.get("mathcolor") === "red") {
        const text = node.childNodes.map((c) => (c.getText ? c.getText() : "")).join("");
        if (text.charAt(0) === String.fromCharCode(92)) undefinedMacros.push(text);  // a backslash
      }
    });
  }
}
const mathEls = Array.from(document.querySelectorAll(".math"));
return {
  math: mathEls.length,
  untypeset: mathEls.filter((el) => !el.querySelector("mjx-container")).length,
  mjx: document.querySelectorAll("mjx-container").length,
  merror: Array.from(document.querySelectorAll("mjx-merror")).map(
      (el) => (el.getAttribute("data-mjx-error") || el.textContent).slice(0, 100)),
  raw: raw.slice(0, 5),
  undefinedMacros: undefinedMacros,
  links: Array.from(document.querySelectorAll("a[href]")).map(
      (a) => [a.getAttribute("href"), a.href]),
};
"""

WAIT_FOR_WIDGETS = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + arguments[0] * 1000;
const views = Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]'));
const missing = () => views.filter((v) => !v.parentElement.querySelector(".jupyter-widgets"));
(function poll() {
  const left = missing();
  if (left.length === 0 || Date.now() > deadline) done([views.length, left.length]);
  else setTimeout(poll, 100);
})();
"""

CHECK_IMAGES = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.querySelectorAll("img[src]"));
imgs.forEach((img) => { img.loading = "eager"; });
Promise.all(imgs.map((img) => img.decode().then(
    () => null,
    () => null))).then(() => done(imgs.map((img) => ({
  src: img.getAttribute("src"), url: img.currentSrc || img.src,
  complete: img.complete, width: img.naturalWidth,
}))));
"""


def _severe_console(driver) -> list[str]:
    bad = []
    for entry in driver.get_log("browser"):
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        if any(all(frag in message for frag in known) for known in KNOWN_HARMLESS_CONSOLE):
            continue
        bad.append(message[:300])
    return bad


# ---------------------------------------------------------------- the check, one test per page

@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline(page, request):
    if page == "<no site>":
        pytest.fail(f"No built site at {SITE}. Run `make book` first "
                    "(or set RNN_SITE_DIR to a build's _build/html).")
    if page == "<no pages>":
        pytest.fail(f"{SITE} holds no html pages; run `make book`.")
    server = request.getfixturevalue("server")
    browser = request.getfixturevalue("browser")
    target = _meta_refresh_target(page) or page
    if target != page:
        assert (SITE / target).is_file(), f"{page}: redirects to missing {target}"

    browser.get_log("browser")  # drop messages left over from the previous page
    browser.get(urllib.parse.urljoin(server, target))
    mathjax = browser.execute_async_script(WAIT_FOR_MATHJAX, MATHJAX_TIMEOUT_S)
    facts = browser.execute_script(PAGE_FACTS)
    images = browser.execute_async_script(CHECK_IMAGES)
    n_widgets, n_unrendered = browser.execute_async_script(WAIT_FOR_WIDGETS, WIDGET_TIMEOUT_S)
    if page == "index.html":
        browser.save_screenshot(str(SCREENSHOT))

    problems = []
    # Math: loaded locally, typeset everywhere, no errors, no raw TeX left.
    if mathjax not in ("typeset", "no-mathjax"):
        problems.append(f"MathJax: {mathjax}")
    if facts["math"] and mathjax != "typeset":
        problems.append(f"{facts['math']} math elements but MathJax did not run")
    if facts["untypeset"]:
        problems.append(f"{facts['untypeset']} of {facts['math']} math elements not typeset "
                        f"(no mjx-container)")
    problems += [f"MathJax error (mjx-merror): {m!r}" for m in facts["merror"]]
    problems += [f"raw TeX in visible text: ...{r}..." for r in facts["raw"]]
    problems += [f"undefined TeX macro {m} (shown in red)" for m in facts["undefinedMacros"]]

    # Widgets: every saved widget view was rendered by the local html-manager.
    if n_unrendered:
        problems.append(f"{n_unrendered} of {n_widgets} widgets not rendered (are require.js "
                        "and embed-amd.js served from _static? see nb_ipywidgets_js)")

    # Internal links: the file exists (HTTP 200) and so does the fragment's id.
    for attr, url in facts["links"]:
        if not url.startswith(server):
            continue  # external (https://...), mailto:, javascript:
        base, _, fragment = url.partition("#")
        status = _fetch(base)[0]
        if status != 200:
            problems.append(f"broken link {attr!r} -> {base[len(server) - 1:]} (HTTP {status})")
        elif fragment and _fetch(base)[1]:
            frag = urllib.parse.unquote(fragment)
            if frag not in _ids(base):
                problems.append(f"broken anchor {attr!r}: no id {frag!r} on "
                                f"{base[len(server) - 1:]}")

    # Images: same-origin ones answer 200; every one decodes with a size.
    for img in images:
        if img["url"].startswith(server):
            status = _fetch(img["url"].partition("#")[0])[0]
            if status != 200:
                problems.append(f"image {img['src']!r} (HTTP {status})")
                continue
        if not img["complete"] or img["width"] == 0:
            problems.append(f"image {img['src']!r} did not load (naturalWidth 0)")

    # Console: nothing SEVERE beyond the known theme noise (404s, script errors, CSP ...).
    problems += [f"console: {m}" for m in _severe_console(browser)]

    shown = f"{page} (-> {target})" if target != page else page
    assert not problems, f"{shown}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)
