"""Make the explorer pages and screenshots that docs/explorer.md shows.

    python docs/explorer/make_pages.py [PAGES_DIR]    # PNGs into docs/img/

1. The seed notebook's LSTM (``LSTM(3, return_sequences=True, return_state=True)`` on its
   1 × 4 × 5 ``train_X``), untrained, as in the notebook.
2. A character model trained here (about a minute on two CPU cores) to say, at every
   character of a sentence from the bundled corpus, whether it is inside round brackets.
Screenshots need Playwright and Chromium (see docs/explorer.md); without them the pages
are still written.
"""
import os
import sys

import numpy as np

import rnnkit
from rnnkit.datasets import text_corpus
from rnnkit.inspect import explore
from rnnkit.layers import LSTM, Dense, Embedding
from rnnkit.models import Sequential
from rnnkit.preprocessing.sequence import pad_sequences
from rnnkit.preprocessing.text import Tokenizer

IMG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "img")
HERE = "."   # where the pages go: set from the command line
TRAIN_X = np.array([[[0.1, 4.2, 1.5, 1.1, 2.8],
                     [1.0, 3.1, 2.5, 0.7, 1.1],
                     [0.3, 2.1, 1.5, 2.1, 0.1],
                     [2.2, 1.4, 0.5, 0.9, 1.1]]], dtype=np.float32)
LENGTH = 64


def seed_page():
    rnnkit.backend.clear_session()
    rnnkit.utils.set_random_seed(0)
    lstm = LSTM(3, return_sequences=True, return_state=True)
    return explore(lstm, TRAIN_X, labels=[["x0", "x1", "x2", "x3"]], names=["train_X"],
                   path=os.path.join(HERE, "seed_lstm.html"),
                   title="The seed notebook's LSTM(3) on train_X")


def bracket_sentences(count, rng):
    """Pieces of the corpus with a few words put in round brackets; the target says, for
    every character, whether it is inside a pair ("(" included, ")" not)."""
    words = [w for w in text_corpus().replace("(", " ").replace(")", " ").split() if w]
    texts, targets = [], []
    while len(texts) < count:
        start = int(rng.integers(0, len(words) - 20))
        pieces, inside = [], []
        for w in words[start:start + 20]:
            if rng.random() < 0.18:
                pieces.append("(" + w + ")")
                inside.append([1] * (len(w) + 1) + [0])
            else:
                pieces.append(w)
                inside.append([0] * len(w))
            pieces.append(" ")
            inside.append([0])
        text = "".join(pieces)[:LENGTH - 4]
        flags = [f for part in inside for f in part][:len(text)]
        if "(" in text:
            texts.append(text)
            targets.append(flags)
    return texts, targets


def text_page(epochs=12):
    rnnkit.backend.clear_session()
    rnnkit.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    texts, targets = bracket_sentences(800, rng)
    tokenizer = Tokenizer(char_level=True, lower=True, filters="")
    tokenizer.fit_on_texts(texts)
    x = pad_sequences(tokenizer.texts_to_sequences(texts), maxlen=LENGTH)
    y = pad_sequences(targets, maxlen=LENGTH)[..., None].astype(np.float32)
    model = Sequential([Embedding(len(tokenizer.word_index) + 1, 8, input_length=LENGTH),
                        LSTM(16, return_sequences=True), Dense(1, activation="sigmoid")],
                       name="brackets")
    model.compile(optimizer=rnnkit.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x[:700], y[:700], epochs=epochs, batch_size=32,
                        validation_data=(x[700:], y[700:]), verbose=0)
    print(f"trained: loss {history.history['loss'][-1]:.4f}, val_accuracy "
          f"{history.history['val_accuracy'][-1]:.4f}")
    test = x[700:760]
    labels = [[tokenizer.index_word.get(int(i), "") for i in row] for row in test]
    with open(os.path.join(HERE, "brackets_tokenizer.json"), "w") as f:
        f.write(tokenizer.to_json())
    model.save(os.path.join(HERE, "brackets_trained.h5"))
    return explore(model, test, labels, names=[f"text {k}" for k in range(len(test))],
                   path=os.path.join(HERE, "brackets_trained.html"),
                   title="A character LSTM trained to know when it is inside brackets")


def screenshots(seed_path, text_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("no playwright: pages written, screenshots skipped", file=sys.stderr)
        return
    chromium = os.environ.get("RNNKIT_CHROMIUM", "/usr/bin/chromium")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=flags)
        # tall enough that nothing scrolls: a hovered cell keeps its tooltip in the picture
        page = browser.new_page(viewport={"width": 1200, "height": 2600})

        def load(path):
            page.goto("file://" + os.path.abspath(path))
            page.wait_for_selector("body[data-ready]", state="attached")

        def shot(selector, name):
            box = page.locator(selector).bounding_box()
            page.screenshot(path=os.path.join(IMG, name), clip=box)

        load(seed_path)
        page.locator("#step-slider").focus()
        page.keyboard.press("End")
        page.fill("#unit-input", "0")
        point = page.evaluate("explorer.cellCenter('f', 2, 0)")
        page.mouse.move(point["x"], point["y"])
        shot("#time-view", "explorer_seed_heatmaps.png")
        page.mouse.move(0, 0)
        shot("#step-view", "explorer_seed_step.png")
        shot("#formulas-view", "explorer_seed_formulas.png")

        load(text_path)
        start = page.evaluate("explorer.stripPoint(%d)" % first_bracket(page)[0])
        end = page.evaluate("explorer.stripPoint(%d)" % first_bracket(page)[1])
        page.mouse.move(start["x"], start["y"])
        page.mouse.down()
        page.mouse.move(end["x"], end["y"], steps=5)
        page.mouse.up()
        unit = page.evaluate("explorer.state.picked[0] ?? 0")
        page.fill("#unit-input", str(unit))
        page.locator("#step-slider").focus()
        page.keyboard.press("Home")
        for _ in range(first_bracket(page)[0] + 2):
            page.keyboard.press("ArrowRight")
        point = page.evaluate("explorer.cellCenter('c', %d, %d)"
                              % (first_bracket(page)[0] + 2, unit))
        page.mouse.move(point["x"], point["y"])
        shot("#time-view", "explorer_text_heatmaps.png")
        page.mouse.move(0, 0)
        shot("#step-view", "explorer_text_step.png")
        shot("#memory-view", "explorer_text_memory.png")
        shot("#search-view", "explorer_text_search.png")
        page.set_viewport_size({"width": 1200, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=os.path.join(IMG, "explorer_text_page.png"))
        browser.close()


def first_bracket(page):
    labels = page.evaluate("JSON.parse(document.getElementById('explorer-data').textContent)"
                           ".labels[0]")
    a = labels.index("(")
    return a, labels.index(")", a) - 1


if __name__ == "__main__":
    # the pages themselves go to a folder of your choice (default: a temporary one)
    import tempfile
    HERE = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="rnnkit-explorer-")
    os.makedirs(HERE, exist_ok=True)
    seed = seed_page()
    print(seed)
    text = text_page()
    print(text)
    screenshots(seed.path, text.path)
