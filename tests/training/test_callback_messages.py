"""ModelCheckpoint, EarlyStopping, ReduceLROnPlateau and LearningRateScheduler with verbose=1
print what tf.keras 2.12 printed (tests/fixtures/keras2_callback_messages/, recorded by
record.py there from callback_messages.py, which runs here under rnnkit): the same model,
weights and unshuffled data give the same losses to the 5 digits shown, and the learning
rates read as Keras reads its float32 variable (0.05000000074505806)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "fixtures" / "keras2_callback_messages"


def test_verbose_callbacks_print_what_tf_keras_printed():
    env = dict(os.environ, KERAS_IMPL="rnnkit", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(HERE / "callback_messages.py")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    first, rest = done.stdout.split("\n", 1)
    ours = rest.replace(first.split(" ", 1)[1], "TMP")
    assert ours == (HERE / "callback_messages.txt").read_text()
