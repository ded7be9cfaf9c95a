"""The drawing pad in a real browser: a JupyterLab server on loopback with a token, headless Chromium driven by
Selenium, a notebook cell that shows `lenet.DrawPad()`, and the tests' 30 digits drawn on its canvas with pointer
events, as a person draws them. Needs Debian's `chromium` and `chromium-driver`: skipped without them, a failure
under CI=true. LENET_PAD_OUT=DIR also keeps the screenshot (pad.png) and the timings (pad_timings.json) there."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pad_strokes import CANVAS, DIGITS  # tests/ is on sys.path (pytest's prepend import mode)

pytestmark = pytest.mark.browser

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
CELL = "import lenet\n\npad = lenet.DrawPad()  # the model shipped with lenet\npad"
STEP = 4  # pixels between the pointer's reported positions, about what a mouse reports while drawing
SCREENSHOT_DIGIT = 10  # the first 3 of tests/pad_strokes.py


def require_browser() -> None:
    missing = [name for name, path in (("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER)) if not path]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -r requirements.txt)")
    if missing:
        message = (
            f"the pad's browser test needs {' and '.join(missing)} (Debian: apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with a random token, serving a folder holding pad.ipynb: its URL."""
    require_browser()
    root = tmp_path_factory.mktemp("lab")
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": CELL, "outputs": [], "execution_count": None}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / "pad.ipynb").write_text(json.dumps(notebook))
    port, token = free_port(), secrets.token_hex(16)
    environment = {**os.environ, **{f"JUPYTER_{kind}_DIR": str(root / f".{kind}") for kind in ("CONFIG", "RUNTIME")}}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--expose-app-in-browser"]
    command += ["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    command += [f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.news_url=None"]
    command += [
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    command += [f"--LabApp.workspaces_dir={root / '.workspaces'}", f"--LabApp.user_settings_dir={root / '.settings'}"]
    command += ["--allow-root"] if os.geteuid() == 0 else []  # CI runs as root
    log = (root / "server.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(root / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield f"{url}/lab/tree/pad.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(argument)  # --no-sandbox: Chromium's sandbox refuses to run as root (CI)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, script: str, timeout: float, what: str):
    """The first truthy value of a JavaScript expression, polled until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


# Set up in the page: the time of each pointerup on the canvas, and of each new reading shown (the pad's data-count).
PROBE = """
const pad = document.querySelector('.lenet-pad');
window.padProbe = {ups: [], updates: []};
pad.querySelector('.lenet-pad-canvas').addEventListener('pointerup', () => padProbe.ups.push(performance.now()));
new MutationObserver(() => padProbe.updates.push([Number(pad.dataset.count), performance.now()]))
    .observe(pad, {attributes: true, attributeFilter: ['data-count']});
"""


def path_points(stroke: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The stroke's points with the straight lines between them walked in steps of about STEP pixels."""
    points = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
        steps = max(1, round(max(abs(x1 - x0), abs(y1 - y0)) / STEP))
        points += [(round(x0 + (x1 - x0) * k / steps), round(y0 + (y1 - y0) * k / steps)) for k in range(1, steps + 1)]
    return points


def draw_stroke(driver, canvas, stroke: list[tuple[int, int]]) -> None:
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_MOUSE, "mouse"), duration=0)
    pointer = actions.pointer_action
    points = path_points(stroke)
    # Selenium's offsets are from the element's centre.
    pointer.move_to(canvas, points[0][0] - CANVAS // 2, points[0][1] - CANVAS // 2)
    pointer.pointer_down()
    for x, y in points[1:]:
        pointer.move_to(canvas, x - CANVAS // 2, y - CANVAS // 2)
    pointer.pointer_up()
    actions.perform()


def shown(driver) -> int:
    return int(driver.execute_script("return Number(document.querySelector('.lenet-pad').dataset.count)"))


def test_the_pad_reads_thirty_digits_drawn_in_chromium(browser, lab, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(lab)
    kernel = "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
    wait_for(browser, f"document.querySelector('.jp-Notebook .jp-Cell') && {kernel}", 120, "the notebook's kernel")
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    pad = "document.querySelector('.lenet-pad')"
    wait_for(browser, f"{pad} && {pad}.dataset.count > 0", 240, "the DrawPad to show its first reading")
    browser.execute_script("document.querySelectorAll('.Toastify').forEach(toast => toast.remove())")  # a news toast
    browser.execute_script(PROBE)
    canvas = browser.find_element(By.CSS_SELECTOR, ".lenet-pad-canvas")
    clear = browser.find_element(By.CSS_SELECTOR, ".lenet-pad-clear")
    answers, latencies = [], []
    for number, (_digit, _pen, strokes) in enumerate(DIGITS):
        count = shown(browser)
        clear.click()
        wait_for(browser, f"Number(document.querySelector('.lenet-pad').dataset.count) > {count}", 30, "a clear")
        for stroke in strokes:  # as a person draws: a stroke, its answer, the next stroke
            count = shown(browser)
            draw_stroke(browser, canvas, stroke)
            wait_for(browser, f"Number(document.querySelector('.lenet-pad').dataset.count) > {count}", 30, "a reading")
            latencies.append(browser.execute_script("return padProbe.updates.at(-1)[1] - padProbe.ups.at(-1)"))
        answers.append(browser.find_element(By.CSS_SELECTOR, ".lenet-pad-answer").text)
        if number == SCREENSHOT_DIGIT:
            browser.find_element(By.CSS_SELECTOR, ".lenet-pad").screenshot(str(tmp_path / "pad.png"))
    right = sum(answer == str(digit) for answer, (digit, _pen, _strokes) in zip(answers, DIGITS, strict=True))
    timings = {
        "strokes": len(latencies),
        "pointerup_to_page_updated_ms": {
            "median": round(statistics.median(latencies), 1),
            "max": round(max(latencies), 1),
        },
        "right": right,
        "answers": answers,
    }
    print(json.dumps(timings))
    if os.environ.get("LENET_PAD_OUT"):
        out = Path(os.environ["LENET_PAD_OUT"])
        shutil.copyfile(tmp_path / "pad.png", out / "pad.png")
        (out / "pad_timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    assert right >= 27, answers
