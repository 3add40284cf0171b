"""The explorer page in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright. A page made from a recorded tf.keras 2.12 ``.h5`` file (a character model
whose LSTM unit 0 was planted to be on inside round brackets) is hovered, its step slider
moved and a range selected; what the page shows is compared with what ``gates()`` and
``memory()`` return; the hypothesis search must find every planted bracket pair; the
console must stay free of errors, no request may leave the page, and it must be ready in
under 2 s. Skipped, saying why, where Chromium or Playwright is missing (.ci/run installs
both when it can)."""
import os
import shutil

import numpy as np
import pytest

from rnnkit.cli import main as cli_main
from rnnkit.inspect import gates, trace
from rnnkit.models import load_model

CHROMIUM = os.environ.get("RNNKIT_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
EXPLORE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_explore")

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the browser tests need Playwright (pip install playwright) and Debian's chromium "
           "(apt-get install chromium); .ci/run installs both when it can")
if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or "
                "set RNNKIT_CHROMIUM)", allow_module_level=True)


@pytest.fixture(scope="module")
def reference():
    model = load_model(os.path.join(EXPLORE, "brackets.h5"))
    ref = np.load(os.path.join(EXPLORE, "brackets.npz"))
    tr = trace(model, ref["x"])
    bidir = model.layers[3]
    return {"x": ref["x"], "ranges": ref["bracket_ranges"],
            "lstm": gates(model.layers[1], tr.rows[1].input),
            "gru": gates(model.layers[2], tr.rows[2].input),
            "backward": gates(bidir.backward_layer, tr.rows[3].input)}


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("explorer") / "brackets.html"
    code = cli_main(["explore", os.path.join(EXPLORE, "brackets.h5"), "--data",
                     os.path.join(EXPLORE, "brackets.txt"), "--word-index",
                     os.path.join(EXPLORE, "brackets_tokenizer.json"), "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module, with a fresh profile."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as p:
        try:
            context = p.chromium.launch_persistent_context(
                str(profile), executable_path=CHROMIUM, args=FLAGS, headless=True,
                viewport={"width": 1300, "height": 900})
        except Exception as error:  # a chromium that cannot start here
            pytest.skip(f"Chromium at {CHROMIUM} did not start: {error}")
        yield context
        context.close()


def open_page(browser, path):
    """A new tab on ``path``, recording console errors and every request."""
    page = browser.new_page()
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    # (a selector, not a JavaScript predicate: the page's policy forbids eval)
    page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)
    assert page.evaluate("document.body.dataset.ready") == "1"
    # then every sequence's hidden states, for the search, decoded in the background
    page.wait_for_selector("body[data-loaded]", state="attached", timeout=30_000)
    return page, errors, requests


@pytest.fixture()
def browser_page(browser, page_file):
    page, errors, requests = open_page(browser, page_file)
    yield page, errors, requests, page_file
    page.close()


def shown(page, key):
    return float(page.locator(f'#equations [data-v="{key}"]').first.inner_text())


def move_slider(page, position):
    slider = page.locator("#step-slider")
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(position):
        page.keyboard.press("ArrowRight")
    assert page.evaluate("explorer.state.pos") == position


def value(t, name, seq, pos, unit):
    k = int(np.nonzero(t.time_index == pos)[0][0])
    return float(t[name][seq, k, unit])


def test_opens_fast_offline_and_without_errors(browser_page):
    page, errors, requests, page_file = browser_page
    assert page.evaluate("window.explorerReadyMs") < 2000
    assert requests == [page_file.as_uri()]        # nothing but the file itself
    assert errors == []
    assert page.locator("#layer-tabs button").all_inner_texts() == [
        "lstm (LSTM)", "gru (GRU)", "bidirectional · forward (SimpleRNN)",
        "bidirectional · backward (SimpleRNN)"]
    assert "lstm (LSTM): 4 × 8 × (8 + 8 + 1) = 544" in page.inner_text("#formulas")


def test_hover_shows_gates_values(browser_page, reference):
    page, errors, _, _ = browser_page
    for name, pos, unit in (("f", 20, 3), ("c", 40, 0), ("h", 33, 5), ("i", 17, 0)):
        point = page.evaluate(f"explorer.cellCenter('{name}', {pos}, {unit})")
        page.mouse.move(point["x"], point["y"])
        tip = page.locator("#tooltip")
        assert f"unit {unit}  position {pos}" in tip.inner_text()
        got = float(tip.get_attribute("data-value"))
        assert got == pytest.approx(value(reference["lstm"], name, 0, pos, unit), abs=2e-4)
    assert errors == []


def test_slider_fills_in_the_equations(browser_page, reference):
    page, errors, _, _ = browser_page
    lstm = reference["lstm"]
    pos, unit = 18, 0          # inside the second bracket pair of line 1
    page.fill("#unit-input", str(unit))
    move_slider(page, pos)
    for key in ("i", "f", "c_tilde", "o", "c", "h"):
        assert shown(page, key) == pytest.approx(value(lstm, key, 0, pos, unit), abs=2e-4)
    assert shown(page, "c_prev") == pytest.approx(value(lstm, "c", 0, pos - 1, unit), abs=2e-4)
    # the memory curve's readout is memory()'s value for this sequence and position
    assert page.inner_text("#memory-readout").startswith(f"influence of input position {pos} ")
    # GRU, reset_after=False: h_t = z·h_{t-1} + (1 − z)·h̃
    page.click("#layer-tabs button >> nth=1")
    page.fill("#unit-input", "2")
    gru = reference["gru"]
    for key in ("z", "r", "h_tilde", "h"):
        assert shown(page, key) == pytest.approx(value(gru, key, 0, pos, 2), abs=2e-4)
    assert shown(page, "h_prev") == pytest.approx(value(gru, "h", 0, pos - 1, 2), abs=2e-4)
    assert "reset_after=False" in page.inner_text("#equations")
    # the backward SimpleRNN: its previous state is the one after the next input position
    page.click("#layer-tabs button >> nth=3")
    page.fill("#unit-input", "1")
    back = reference["backward"]
    assert shown(page, "pre_activation") == pytest.approx(
        value(back, "pre_activation", 0, pos, 1), abs=2e-4)
    assert shown(page, "h") == pytest.approx(value(back, "h", 0, pos, 1), abs=2e-4)
    assert shown(page, "h_prev") == pytest.approx(value(back, "h", 0, pos + 1, 1), abs=2e-4)
    assert errors == []


def test_memory_readout_is_memorys_value(browser_page):
    page, errors, _, page_file = browser_page
    from rnnkit.inspect import explore_encode as enc
    import json
    html = page_file.read_text(encoding="utf-8")
    data = json.loads(html.split('id="explorer-data">')[1].split("</script>")[0]
                      .replace("<\\/", "</"))
    curves = enc.unpack_floats(data["memory"]["curves"], (1, data["sequences"], data["steps"]))
    move_slider(page, 50)
    got = float(page.locator("#memory-value").get_attribute("data-value"))
    assert got == pytest.approx(float(curves[0, 0, 50]), rel=1e-5)
    assert errors == []


def test_hypothesis_search_finds_the_planted_brackets(browser_page, reference):
    page, errors, _, _ = browser_page
    seq, a, b = (int(v) for v in reference["ranges"][1])       # "(woats" in line 1
    start = page.evaluate(f"explorer.stripPoint({a})")
    end = page.evaluate(f"explorer.stripPoint({b})")
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.mouse.move(end["x"], end["y"], steps=6)
    page.mouse.up()
    assert page.evaluate("explorer.state.range") == [a, b]
    assert page.evaluate("explorer.state.picked") == [0]      # the planted unit, alone
    items = page.locator("#matches li")
    found = {(int(li.get_attribute("data-seq")), int(li.get_attribute("data-start")),
              int(li.get_attribute("data-end"))) for li in items.all()}
    planted = {tuple(int(v) for v in r) for r in reference["ranges"]}
    assert found == planted                                   # every bracket pair, no more
    # open a match in another sequence: its range is selected there
    item = page.locator('#matches li[data-seq="5"]').first
    s5, e5 = int(item.get_attribute("data-start")), int(item.get_attribute("data-end"))
    # the state is read in the same task as the click, before the sequence's detail loads:
    # the range must already be the match's (nothing in between reads the old one)
    seq_now, range_now = page.evaluate(
        "(() => { document.querySelector('#matches li[data-seq=\"5\"]').click();"
        " return [explorer.state.seq, explorer.state.range]; })()")
    assert (seq_now, range_now) == (5, [s5, e5])
    # once sequence 5's detail has loaded, the list is redrawn with that match as current
    current = page.locator('#matches li.current[data-seq="5"]')
    current.wait_for(timeout=10_000)
    assert page.locator("#matches li.current").count() == 1
    assert (current.get_attribute("data-start"), current.get_attribute("data-end")) == \
        (str(s5), str(e5))
    assert page.evaluate("explorer.state.range") == [s5, e5]
    assert page.input_value("#seq-select") == "5"
    # a threshold above tanh(1) = 0.76 switches the unit off everywhere
    page.evaluate("(() => { const t = document.getElementById('threshold'); t.value = 0.8; "
                  "t.dispatchEvent(new Event('input')); })()")
    assert page.evaluate("explorer.state.picked") == []
    assert errors == []


def test_screenshot_of_each_view(browser_page, tmp_path):
    page, errors, _, _ = browser_page
    for section in ("time-view", "step-view", "memory-view", "search-view", "formulas-view"):
        shot = tmp_path / f"{section}.png"
        page.locator(f"#{section}").screenshot(path=str(shot))
        assert shot.stat().st_size > 2000
    assert errors == []


def test_a_big_page_opens_in_under_two_seconds(browser, tmp_path, big_page_model_and_data):
    """100 sequences of 200 steps, an LSTM of 128 units: the issue's size."""
    result = big_page_model_and_data[2]
    assert result.size < 5_000_000
    path = tmp_path / "big.html"
    path.write_text(result.html, encoding="utf-8")
    # best of three opens: this machine's timings are noisy (other work shares its cores)
    ready, loaded = [], []
    for _ in range(3):
        page, errors, _ = open_page(browser, path)
        ready.append(page.evaluate("window.explorerReadyMs"))
        loaded.append(page.evaluate("window.explorerLoadedMs"))
        page.close()
        assert errors == []
    assert min(ready) < 2000, f"the page took {min(ready):.0f} ms to show its first view"
    assert min(loaded) < 4000, f"the page took {min(loaded):.0f} ms to decode everything"


def test_a_sequence_without_stored_gates(browser, tmp_path, reference):
    """Only the hidden state of sequences left out of the budget: the page says so, shows
    h from the 8-bit store, and the equations come back for a sequence that has them."""
    from rnnkit.inspect import explore

    model = load_model(os.path.join(EXPLORE, "brackets.h5"))
    path = tmp_path / "partial.html"
    result = explore(model, reference["x"], path=path, detail=[1])
    assert result.detail == [1]
    page, errors, _ = open_page(browser, path)
    assert "gates and cell states are stored for: sequence 1" in page.inner_text("#no-detail")
    assert page.locator("#heatmaps canvas").count() == 1          # h only
    point = page.evaluate("explorer.cellCenter('h', 30, 0)")
    page.mouse.move(point["x"], point["y"])
    got = float(page.locator("#tooltip").get_attribute("data-value"))
    tolerance = result.data["tier_error"] + 0.005                   # shown with 2 decimals
    assert got == pytest.approx(value(reference["lstm"], "h", 0, 30, 0), abs=tolerance)
    page.select_option("#seq-select", "1")
    page.wait_for_selector("#heatmaps canvas >> nth=5")           # h, c, i, f, c̃, o
    assert page.locator("#heatmaps canvas").count() == 6
    move_slider(page, 40)
    assert shown(page, "f") == pytest.approx(value(reference["lstm"], "f", 1, 40, 0), abs=2e-4)
    page.close()
    assert errors == []
