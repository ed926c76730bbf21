#!/usr/bin/python3
"""Drives the rayc dashboard in headless Chromium (Debian's chromium,
chromium-driver, python3-selenium) for tests/integration/dashboard.tcl and
bench/dash_overview_bench.sh.

  dash_browser.py check URL TOKEN_FILE OUTDIR JOB_ID RELEASE IP...
      signs in with the token, checks every page, keeps a screenshot of each
      in OUTDIR, prints one "ok NAME" or "FAIL NAME: why" line per check.
      The job JOB_ID prints dash-line-1..3, waits for the file RELEASE (made
      here once those lines are on the page), then prints dash-line-after.
  dash_browser.py bench URL TOKEN_FILE NODES RUNS
      prints the Overview page's load time (navigation start to the node card
      showing NODES alive) for RUNS loads: p50 and max in ms.
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 60


def browser():
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1000"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def sign_in(d, url, token):
    d.get(url + "/")
    WebDriverWait(d, WAIT_S).until(lambda d: d.find_element(By.ID, "login").is_displayed())
    d.find_element(By.ID, "token").send_keys(token)
    d.find_element(By.ID, "login-button").click()
    page_loaded(d, "overview")


def page_loaded(d, page, after=0):
    WebDriverWait(d, WAIT_S).until(
        lambda d: d.find_element(By.ID, "main").get_attribute("data-page") == page
        and int(d.find_element(By.ID, "main").get_attribute("data-loaded") or 0) > after)


def goto(d, page):
    before = int(d.find_element(By.ID, "main").get_attribute("data-loaded") or 0)
    d.execute_script("location.hash = arguments[0]", "#/" + page)
    page_loaded(d, page.split("/")[0], before)


def check(name, fn):
    try:
        fn()
        print(f"ok {name}", flush=True)
    except Exception as e:  # one line per failed check, the test compares the lines
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"FAIL {name}: {msg}", flush=True)


def run_check(url, token_file, outdir, job_id, release, ips):
    token = open(token_file).read().strip()
    d = browser()
    try:
        check("login", lambda: sign_in(d, url, token))
        d.save_screenshot(f"{outdir}/overview.png")
        check("cookie-httponly", lambda: assert_true(
            token not in d.execute_script("return document.cookie"), "token readable by JS"))
        check("token-not-in-url", lambda: assert_true(token not in d.current_url, d.current_url))

        def cluster():
            goto(d, "cluster")
            def rows(d):
                r = d.find_elements(By.CSS_SELECTOR, "#nodes-table tr")[1:]
                alive = [x.text for x in r if " ALIVE " in f" {x.text} "]
                return alive if len(alive) == len(ips) else False
            alive = WebDriverWait(d, WAIT_S).until(rows)
            for ip in ips:
                assert_true(any(f"{ip}:" in t for t in alive), f"{ip} not shown: {alive}")
        check("cluster-nodes", cluster)
        d.save_screenshot(f"{outdir}/cluster.png")

        def jobs():
            goto(d, "jobs")
            WebDriverWait(d, WAIT_S).until(
                lambda d: job_id in d.find_element(By.ID, "jobs-table").text)
        check("jobs-list", jobs)
        d.save_screenshot(f"{outdir}/jobs.png")

        def job_log():
            goto(d, "jobs/" + job_id)
            WebDriverWait(d, WAIT_S).until(
                lambda d: "dash-line-3" in log_lines(d))
            status = d.find_element(By.ID, "job-fields").text
            assert_true("RUNNING" in status, f"job not running while its log streamed: {status}")
            open(release, "w").close()   # the job prints its last line only now
            WebDriverWait(d, WAIT_S).until(
                lambda d: "dash-line-after" in log_lines(d))
        check("job-log-streams", job_log)
        d.save_screenshot(f"{outdir}/job.png")

        def overview_events():
            # The Overview's recent events: every node joining, the job that
            # just ended, and an actor that restarted and died (the test
            # before this one ran it).
            goto(d, "overview")
            def rows(d):
                try:  # the page refreshes every 3 s: rows may go stale
                    r = [x.text for x in d.find_elements(By.CSS_SELECTOR, "#events-table tr")[1:]]
                except StaleElementReferenceException:
                    return False
                job = [x for x in r if job_id in x and "SUCCEEDED" in x]
                nodes = [ip for ip in ips if any(f" {ip} " in f" {x} " and "ALIVE" in x for x in r)]
                actor = [x for x in r if " actor " in f" {x} "]
                states = {st for x in actor for st in ("RESTARTING", "DEAD") if st in x}
                ok = job and len(nodes) == len(ips) and states == {"RESTARTING", "DEAD"}
                return r if ok else False
            WebDriverWait(d, WAIT_S).until(rows)
        check("overview-events", overview_events)
        d.save_screenshot(f"{outdir}/overview.png")

        def metrics():
            goto(d, "metrics")
            WebDriverWait(d, WAIT_S).until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR, "#charts canvas")) == 5)
        check("metrics-charts", metrics)
        d.save_screenshot(f"{outdir}/metrics.png")

        for page in ("actors", "tasks", "placement_groups"):
            def state(page=page):
                goto(d, page)
                WebDriverWait(d, WAIT_S).until(lambda d: d.find_elements(
                    By.CSS_SELECTOR, "#state-missing, #state-table"))
            check(f"state-{page}", state)
            d.save_screenshot(f"{outdir}/{page}.png")
    finally:
        d.quit()


def log_lines(d):
    """The job page's log as whole lines (the log's "Running entrypoint"
    line quotes the script, so substrings would match too early)."""
    return [x.strip() for x in d.find_element(By.ID, "job-log").text.split("\n")]


def assert_true(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run_bench(url, token_file, nodes, runs):
    token = open(token_file).read().strip()
    d = browser()
    try:
        sign_in(d, url, token)
        times = []
        for i in range(runs):
            d.get(f"{url}/?load={i}#/overview")  # a new document each time
            WebDriverWait(d, WAIT_S, poll_frequency=0.02).until(
                lambda d: d.find_elements(By.ID, "card-nodes") and
                                           d.find_element(By.ID, "card-nodes").text
                                           .startswith(f"Nodes\n{nodes} alive"))
            t = d.execute_script(  # the first render's end, from navigation start
                "return Number(document.getElementById('main').dataset.loaded)"
                " - performance.timeOrigin")
            times.append(t)
        times.sort()
        print(f"dashboard Overview load, {nodes} nodes, {runs} loads in headless Chromium: "
              f"p50 {times[len(times) // 2]:.0f} ms, max {times[-1]:.0f} ms")
    finally:
        d.quit()


if __name__ == "__main__":
    if sys.argv[1] == "check":
        run_check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:])
    else:
        run_bench(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
