"""Twenty users at once on one server: no errors, and every user's exports are their own.

Each session opens the overview on its own reporting unit and indicator (through the URL, as a shared link
would), downloads the unit's compound table, the ranking data and the ranking chart (SVG, rendered on the
server), then switches to another unit in the page and downloads the table again. Every file is checked
against the database: the compounds of that session's unit, the values of that session's indicator, the
title of that session's chart. Sessions run concurrently in one Chromium (a browser context each), with
every request outside localhost blocked; the whole run is bounded in time.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from harness import CHROMIUM, CHROMIUM_ARGS, IDLE_JS, RUN_COUNTER_JS, is_local

from analytics import progress, store
from analytics.store import demo
from dashboard.labels import t
from dashboard.views import overview as cached_spatial  # the overview page's indicators

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SESSIONS = 20
TIME_LIMIT_S = 300
STEP_TIMEOUT_MS = 180_000
INDICATORS = list(cached_spatial.OVERVIEW_INDICATORS)
SESSION_VIEWPORT = {"width": 1024, "height": 700}


@pytest.fixture(scope="module")
def truth(pristine_db, current_year):
    """Per reporting unit: its plan compounds; per indicator: the value of every unit (as the chart shows it)."""
    con = store.connect(pristine_db, read_only=True)
    try:
        compounds = store.read_layer(con, "compounds")
        table = progress.county_progress(con, as_of=demo.demo_as_of())
    finally:
        con.close()
    plan = compounds[compounds["plan_year"] == current_year]
    unit = plan["zone_code"].where(plan["zone_code"].notna(), plan["county_code"])
    units = table.loc[table["kind"] != "city", "unit_code"].tolist()
    ids = {code: set(plan.loc[unit == code, "id"]) for code in units}
    ids[""] = set(plan["id"])
    values = {}
    for indicator, kind in cached_spatial.OVERVIEW_INDICATORS.items():
        scale = 100 if kind == "rate" else 1
        rows = table[table["kind"] != "city"]
        values[indicator] = {code: round(float(v) * scale, 2) for code, v in zip(rows["unit_code"], rows[indicator])}
    names = {code: table.loc[table["unit_code"] == code, "name"].iloc[0] for code in units}
    names[""] = t("common.all_counties")
    return {"units": ["", *units], "ids": ids, "values": values, "names": names}


def plan_for(i: int, units: list[str]) -> tuple[str, str, str]:
    """Session ``i``'s first unit, indicator and second unit: no two sessions share the pair (unit, indicator)."""
    return units[i % len(units)], INDICATORS[i % len(INDICATORS)], units[(i + 5) % len(units)]


async def _wait_rerun(page, mark: int) -> None:
    try:
        await page.wait_for_function("(mark) => (window.__jiugaiRuns || 0) > mark", arg=mark, timeout=15_000)
    except Exception:  # noqa: BLE001 - no rerun started: the page is as it was
        pass
    await _wait_idle(page)


async def _wait_idle(page) -> None:
    await page.wait_for_function(IDLE_JS, timeout=STEP_TIMEOUT_MS)
    await page.wait_for_timeout(400)
    await page.wait_for_function(IDLE_JS, timeout=STEP_TIMEOUT_MS)


async def _download(page, key: str, *, popover: str | None = None) -> tuple[str, bytes]:
    if popover is not None:
        await page.locator('[data-testid="stPopover"]').filter(has_text=popover).first.locator("button").click()
    async with page.expect_download(timeout=STEP_TIMEOUT_MS) as info:
        await page.locator(f".st-key-{key} button").click()
    download = await info.value
    assert await download.failure() is None, f"download {key} failed"
    if popover is not None:
        await page.keyboard.press("Escape")
    return download.suggested_filename, Path(await download.path()).read_bytes()


async def _session(browser, url: str, i: int, units: list[str], names: dict[str, str]) -> dict:
    first, indicator, second = plan_for(i, units)
    context = await browser.new_context(viewport=SESSION_VIEWPORT, accept_downloads=True)
    out: dict = {"i": i, "first": first, "indicator": indicator, "second": second, "blocked": [], "js_errors": [],
                 "http_errors": [], "step": "open",
                 "times": {}}
    start = time.monotonic()

    async def guard(route) -> None:
        if is_local(route.request.url):
            await route.continue_()
        else:
            out["blocked"].append(route.request.url)
            await route.abort("blockedbyclient")

    try:
        context.set_default_timeout(STEP_TIMEOUT_MS)
        await context.route("**/*", guard)
        await context.add_init_script(RUN_COUNTER_JS)
        page = await context.new_page()
        page.on("pageerror", lambda exc: out["js_errors"].append(str(exc)))
        page.on("response", lambda response: response.status >= 400 and out["http_errors"].append(
            f"{response.status} {response.url}"))
        await page.goto(f"{url}/?county={first}&indicator={indicator}", wait_until="domcontentloaded")
        await _wait_idle(page)
        out["step"] = "table_1"
        out["times"][out["step"]] = round(time.monotonic() - start, 1)
        out["table_1"] = await _download(page, "overview-compounds-csv")
        out["step"] = "ranking"
        out["times"][out["step"]] = round(time.monotonic() - start, 1)
        out["ranking"] = await _download(page, "overview-ranking-csv")
        out["step"] = "chart"
        out["times"][out["step"]] = round(time.monotonic() - start, 1)
        out["chart"] = await _download(page, "overview-ranking-svg", popover=t("export.images"))

        out["step"] = "switch"
        out["times"][out["step"]] = round(time.monotonic() - start, 1)
        box = page.locator('.st-key-county input[role="combobox"]')
        await box.click()
        await box.fill(names[second])
        mark = await page.evaluate("() => window.__jiugaiRuns || 0")
        await page.locator('[role="listbox"] [role="option"]').filter(has_text=names[second]).first.click()
        await _wait_rerun(page, mark)
        out["step"] = "table_2"
        out["times"][out["step"]] = round(time.monotonic() - start, 1)
        out["table_2"] = await _download(page, "overview-compounds-csv")
        errors = []
        for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
            errors += await page.locator(selector).all_inner_texts()
        out["errors"] = errors
    except Exception as exc:  # noqa: BLE001 - reported per session below
        out["failure"] = f"{type(exc).__name__}: {exc}"
    finally:
        await context.close()
    return out


async def _all_sessions(url: str, units: list[str], names: dict[str, str]) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            return await asyncio.wait_for(
                asyncio.gather(*(_session(browser, url, i, units, names) for i in range(SESSIONS))),
                timeout=TIME_LIMIT_S,
            )
        finally:
            await browser.close()


def run_sessions(url: str, units: list[str], names: dict[str, str]) -> list[dict]:
    """Run the sessions on an event loop of their own thread (the sync Playwright of the suite owns this one)."""
    box: dict = {}

    def target() -> None:
        try:
            box["results"] = asyncio.run(_all_sessions(url, units, names))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="concurrent-sessions")
    worker.start()
    worker.join(TIME_LIMIT_S + 60)
    assert not worker.is_alive(), f"the sessions did not finish within {TIME_LIMIT_S + 60} s"
    if "error" in box:
        raise box["error"]
    return box["results"]


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={t("col.id"): str})


def check_session(r: dict, truth: dict) -> list[str]:
    """What went wrong for one session: errors it saw, and every file of its that is not its own."""
    who = f"session {r['i']} ({r['first'] or 'city'}, {r['indicator']} → {r['second'] or 'city'})"
    problems = [f"{who}: {what} {r[key]}" for key, what in (
        ("errors", "error shown"), ("js_errors", "JavaScript errors"), ("blocked", "tried to reach the internet"),
        ("http_errors", "requests refused"),
    ) if r.get(key)]
    if "failure" in r:
        problems.append(f"{who}: stopped at {r['step']} (steps done at {r['times']} s): {r['failure'][:300]}")
    for step, unit in (("table_1", r["first"]), ("table_2", r["second"])):
        if step in r:
            name, data = r[step]
            if set(read_csv(data)[t("col.id")]) != truth["ids"][unit]:
                problems.append(f"{who}: {step} {name} holds other compounds than its unit's")
    header = t(f"overview.ind.{r['indicator']}")
    if "ranking" in r:
        name, data = r["ranking"]
        ranking = read_csv(data)
        if header not in ranking.columns:
            problems.append(f"{who}: ranking {name} is not for its indicator: {list(ranking.columns)}")
        else:
            shown = dict(zip(ranking[t("overview.col.unit")], ranking[header]))
            wrong = [code for code, value in truth["values"][r["indicator"]].items()
                     if abs(shown[truth["names"][code]] - value) > 0.01]
            if wrong:
                problems.append(f"{who}: ranking {name} has other values for {wrong}")
    if "chart" in r:
        name, data = r["chart"]
        svg = data.decode("utf-8")
        if not svg.lstrip().startswith(("<svg", "<?xml")):
            problems.append(f"{who}: {name} is not an SVG")
        elif t("overview.ranking_title", indicator=header) not in svg:
            problems.append(f"{who}: chart {name} has another session's title")
    return problems


def test_the_check_catches_another_sessions_files(truth):
    """Feed the check one session's files swapped with another's: each swap is reported."""
    mine, other = "370830", "370883"

    def csv(frame: pd.DataFrame) -> bytes:
        return frame.to_csv(index=False).encode("utf-8-sig")

    header = t("overview.ind.completion_rate")
    values = truth["values"]["completion_rate"]
    ranking = pd.DataFrame({t("overview.col.unit"): [truth["names"][c] for c in values], header: list(values.values())})
    good = {
        "i": 0, "first": mine, "second": other, "indicator": "completion_rate", "step": "table_2", "times": {},
        "table_1": ("a.csv", csv(pd.DataFrame({t("col.id"): sorted(truth["ids"][mine])}))),
        "table_2": ("b.csv", csv(pd.DataFrame({t("col.id"): sorted(truth["ids"][other])}))),
        "ranking": ("r.csv", csv(ranking)),
        "chart": ("c.svg", f"<svg><text>{t('overview.ranking_title', indicator=header)}</text></svg>".encode()),
    }
    assert check_session(good, truth) == []
    swapped = {**good, "table_1": good["table_2"]}
    assert [p for p in check_session(swapped, truth) if "table_1 b.csv holds other compounds" in p]
    renamed = ranking.rename(columns={header: t("overview.ind.invest_rate")})
    assert [p for p in check_session({**good, "ranking": ("r.csv", csv(renamed))}, truth) if "not for its indicator" in p]
    shifted = ranking.assign(**{header: ranking[header] + 1})
    assert [p for p in check_session({**good, "ranking": ("r.csv", csv(shifted))}, truth) if "other values" in p]
    chart = ("c.svg", f"<svg>{t('overview.ranking_title', indicator=t('overview.ind.invest_rate'))}</svg>".encode())
    assert [p for p in check_session({**good, "chart": chart}, truth) if "another session's title" in p]


def test_twenty_sessions_each_get_their_own_exports(server, truth):
    offset = len(server.log_text())
    started = time.monotonic()
    results = run_sessions(server.url, truth["units"], truth["names"])
    elapsed = time.monotonic() - started
    assert len({(r["first"], r["indicator"]) for r in results}) == SESSIONS
    problems = [problem for r in results for problem in check_session(r, truth)]
    problems += [b for b in server.log_text()[offset:].split("\n\n") if "Traceback" in b]
    assert not problems, "\n".join(problems)
    assert elapsed < TIME_LIMIT_S


async def _download_while_others_rerun(url: str) -> dict:
    """User A clicks a download; before A's browser fetches the file, user B's page runs twice."""
    from playwright.async_api import async_playwright

    out: dict = {"http": []}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            a = await browser.new_context(viewport=SESSION_VIEWPORT, accept_downloads=True)
            b = await browser.new_context(viewport=SESSION_VIEWPORT, accept_downloads=True)
            for context in (a, b):
                context.set_default_timeout(STEP_TIMEOUT_MS)
                await context.add_init_script(RUN_COUNTER_JS)
            requested, others_done = asyncio.Event(), asyncio.Event()

            async def hold_file(route) -> None:  # A's browser asks for the made file only after B's runs
                requested.set()
                await others_done.wait()
                response = await route.fetch()
                out["http"].append(response.status)
                await route.fulfill(response=response)

            made_file = re.compile(r"^https?://[^/]+/media/[0-9a-f]+\.csv$")  # the CSV made on click
            await a.route(made_file, hold_file)
            page_a, page_b = await a.new_page(), await b.new_page()
            await page_a.goto(f"{url}/", wait_until="domcontentloaded")
            await _wait_idle(page_a)

            async def download() -> str | None:
                async with page_a.expect_download() as info:
                    await page_a.locator(".st-key-overview-compounds-csv button").click()
                return await (await info.value).failure()

            pending = asyncio.ensure_future(download())
            await requested.wait()
            for _ in range(2):  # two runs of another user's page end meanwhile
                await page_b.goto(f"{url}/", wait_until="domcontentloaded")
                await _wait_idle(page_b)
            others_done.set()
            out["failure"] = await pending
            await a.unroute(made_file)
        finally:
            await browser.close()
    return out


def test_a_download_survives_other_users_reruns(server):
    """A file made on click must still be there when the browser fetches it, whatever other sessions do."""
    box: dict = {}

    def target() -> None:
        try:
            box.update(asyncio.run(_download_while_others_rerun(server.url)))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="download-race")
    worker.start()
    worker.join(TIME_LIMIT_S)
    assert not worker.is_alive()
    if "error" in box:
        raise box["error"]
    assert box["failure"] is None and box["http"] == [200], (
        f"the download failed ({box['failure']}, HTTP {box['http']}): the file made on click was deleted when "
        "other sessions' runs ended, before this browser fetched it"
    )
