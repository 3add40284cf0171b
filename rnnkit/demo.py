"""``rnnkit demo``: the seed notebook's cells, run in order with rnnkit in place of tf.keras.

Each cell is the notebook's code with only the imports changed. It is shown the way the
notebook showed it and then run. Nothing is patched for the printing: a layer called on NumPy
data returns ``rnnkit.eager.EagerTensor``s, which print the way TensorFlow printed them (the
values, then the shape and dtype), and whose ``.shape`` prints as ``(1, 3)``. The notes
beside the cells are the notebook's own remarks, translated from Korean.
"""
from __future__ import annotations

import contextlib
import io
import sys
import textwrap
from typing import Any, Callable

# (label, code, note printed after the output). The code is the notebook's, imports swapped.
CELLS: list[tuple[str, str, str]] = [
    ("In [3]", """
        from rnnkit.models import Sequential
        from rnnkit.layers import SimpleRNN

        model = Sequential()
        model.add(SimpleRNN(3, input_shape = (2,10)))
        model.summary()
        """, "42 parameters = 3 units x (10 inputs + 3 recurrent + 1 bias)."),
    ("In [4]", """
        from rnnkit.models import Sequential
        from rnnkit.layers import SimpleRNN

        model = Sequential()
        model.add(SimpleRNN(3, input_length = 2, input_dim = 10))
        model.summary()
        """, "input_length=2, input_dim=10 is the Keras 2 spelling of input_shape=(2, 10)."),
    ("In [7]", """
        # use batch
        model = Sequential()
        # model.add
        model.add(SimpleRNN(3, batch_input_shape = (8, 2, 10)))
        model.summary()
        """, "Check how the output shape changes: a fixed batch of 8 replaces None. "
             "(The notebook printed \"sequential_4\": it had built two more models in cells "
             "that are not part of it.)"),
    ("In [9]", """
        model = Sequential()
        # timesteps = input_length
        model.add(SimpleRNN(3, input_length = 10, input_dim = 5, return_sequences=True))
        model.add(SimpleRNN(3, return_sequences=True))
        model.summary()
        """, "A deep RNN: return_sequences=True hands every step to the next layer. "
             "(None, 10, 3): think of the batch as 1."),
    ("In [11]", """
        import numpy as np
        from rnnkit.layers import SimpleRNN, LSTM


        # time step = 4 ,input dim = 5 ,batch size = 1
        train_X = [[
            [0.1, 4.2, 1.5, 1.1, 2.8],
            [1.0, 3.1, 2.5, 0.7, 1.1],
            [0.3, 2.1, 1.5, 2.1, 0.1],
            [2.2, 1.4, 0.5, 0.9, 1.1]
            ]]
        train_X = np.array(train_X, dtype=np.float32)
        print(train_X.shape)
        """, "Simple RNN on data: 1 sample, 4 time steps, 5 features."),
    ("In [17]", """
        rnn = SimpleRNN(3)
        hidden_states = rnn(train_X)
        print(f'input shape : {train_X.shape}')
        print(f'hidden(output) shape : {hidden_states.shape}')
        """, "hidden_unit = 3: only the last hidden state comes out, (batch, units)."),
    ("In [19]", """
        rnn = SimpleRNN(3, return_sequences = True)
        hidden_states = rnn(train_X)
        print(f'input shape : {train_X.shape}')
        print(train_X)
        print(hidden_states)
        """, "return_sequences=True: one hidden state per time step, (batch, steps, units). "
             "The weights are random, so the numbers differ from run to run, as in Keras."),
    ("In [22]", """
        rnn = SimpleRNN(3, return_sequences = True, return_state = True)
        hidden_states, last_states = rnn(train_X)
        print(f'input shape : {train_X.shape}')
        print(train_X)
        print(hidden_states)
        print(last_states)
        """, "With return_state=True, last_states is the last hidden state whatever "
             "return_sequences says."),
    ("In [23]", """
        rnn = SimpleRNN(3, return_sequences = True, return_state = True)
        hidden_states, last_states = rnn(train_X)
        # print(f'input shape : {train_X.shape}')
        # print(train_X)
        print('-----hidden-----')
        print(hidden_states)
        print('-----last-----')
        print(last_states)
        """, "The last row of the hidden states is the last state. The RNN's problem: recent "
             "inputs weigh more; x1 fades, old memories thin out."),
    ("In [26]", """
        rnn = SimpleRNN(3, return_sequences = False, return_state = True)
        hidden_states, last_states = rnn(train_X)
        # print(f'input shape : {train_X.shape}')
        # print(train_X)
        print('-----hidden-----')
        print(hidden_states)
        print('-----last-----')
        print(last_states)
        """, "Remember the difference between the shape that goes in and the shape that "
             "comes out."),
    ("In [35]", """
        rnn = SimpleRNN(3, return_sequences = False, return_state = True)
        hidden_states, last_states = rnn(train_X)
        print('-----input-----')
        print(f'input shape : {train_X.shape}')
        print(train_X)
        print('-----hidden-----')
        print(hidden_states)
        print('-----last-----')
        print(last_states)
        """, "return_sequences=False, return_state=True: output and state are the same tensor."),
    ("In [36]", """
        lstm = LSTM(3, return_sequences = False, return_state =True)
        hidden_states, last_states, last_cell_state = lstm(train_X)

        print('-----input-----')
        print(f'input shape : {train_X.shape}')
        print(train_X)
        print('-----hidden-----')
        print(hidden_states)
        print('-----last-----')
        print(last_states)
        print('-----last cell-----')
        print(last_cell_state)
        """, "LSTM: the forget gate decides how much to drop, the input gate how much to "
             "store, the output gate how much to pass on. It returns [output, h, c]."),
    ("In [37]", """
        lstm = LSTM(3, return_sequences = True, return_state =True)
        hidden_states, last_states, last_cell_state = lstm(train_X)

        print('-----input-----')
        print(f'input shape : {train_X.shape}')
        print(train_X)
        print('-----hidden-----')
        print(hidden_states)
        print('-----last-----')
        print(last_states)
        print('-----last cell-----')
        print(last_cell_state)
        """, "return_sequences=True: all hidden states; the cell state c is returned only "
             "for the last step."),
    # Not in the notebook: the next step a learner takes, on data that ships with rnnkit.
    ("Training", """
        import numpy as np
        from rnnkit import datasets, utils
        from rnnkit.layers import Dense

        passengers = datasets.airline_passengers().values   # monthly, 1949-1960
        change = np.diff(np.log(passengers))                 # month-on-month change
        z = ((change - change[:-24].mean()) / change[:-24].std()).astype('float32')[:, None]
        windows = utils.timeseries_dataset_from_array(z[:-1], z[12:], sequence_length=12,
                                                      batch_size=1000)
        x, y = next(iter(windows))                           # 12 months in, the next one out
        model = Sequential([LSTM(16, input_shape=(12, 1)), Dense(1)])
        model.compile(optimizer='adam', loss='mse')
        history = model.fit(x[:-24], y[:-24], epochs=40, batch_size=16, verbose=0)
        print(f"loss: {history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.3f}")
        model.evaluate(x[-24:], y[-24:], verbose=2)          # the last two years, held out
        forecast = passengers[-25:-1] * np.exp(model.predict(x[-24:], verbose=0)[:, 0]
                                               * change[:-24].std() + change[:-24].mean())
        rmse = lambda f: np.sqrt(np.mean((f - passengers[-24:]) ** 2))
        print(f'test RMSE {rmse(forecast):.1f}, naive last-value forecast '
              f'{rmse(passengers[-25:-1]):.1f} (thousand passengers)')
        """, "compile/fit/evaluate as in Keras; `rnnkit train` does this with plots and a "
             "saved model."),
]


class _Writer(io.TextIOBase):
    def __init__(self, write: Callable[[str], Any]) -> None:
        self._write = write

    def write(self, text: str) -> int:
        self._write(text)
        return len(text)


def run(write: Callable[[str], Any] | None = None, seed: int | None = 0) -> None:
    """Run every cell in a fresh session (names start at ``sequential``) and print it."""
    from . import backend, utils

    if write is None:
        stdout = sys.stdout  # bound now: the cells' own prints are redirected into `write`
        write = stdout.write
    backend.clear_session()
    if seed is not None:
        utils.set_random_seed(seed)
    namespace: dict[str, Any] = {}
    for label, code, note in CELLS:
        code = textwrap.dedent(code).strip("\n")
        write(f"{label}:\n{code}\n\n")
        with contextlib.redirect_stdout(_Writer(write)):  # print() and model.summary()
            exec(compile(code, f"<seed notebook {label}>", "exec"), namespace)  # our own cells
        write(f"\n  # note: {note}\n\n")
