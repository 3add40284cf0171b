/* LSTM, GRU and SimpleRNN forwards for inference in one C call each, for short calls (a
   stateful layer fed one step at a time, batch 1) where each torch op around the loop
   would cost more than the step itself: the input projection, the biases, the state
   copies, the reversal of go_backwards and the outputs' layout are all done here, around
   the loops of rnn_loops.c with rnnkit's packed recurrent product.

   Common arguments:
     x          the input, element (b, t, d) at x[b * x_batch + t * x_step + d]: read where
                it lies (batch-major, any strides but a contiguous last axis);
     backwards  go_backwards: step t reads the input's step steps - 1 - t;
     packed_*   the kernel and recurrent kernel packed for products of `batch` rows
                (rnnkit_pack_panels): each step's projection is one such product onto the
                biases, written where the loops of rnn_loops.c want their step's input;
     h0 (, c0)  the initial states (batch, units), contiguous;
     h_out (, c_out)  the final states (batch, units);
     seq_out    the output of every step (batch, steps, units) in the order the steps ran,
                or NULL when only the final state is wanted.
   Any bias may be NULL. The loops' buffers (time-major) are allocated here; each function
   returns 0, or -1 when that allocation fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void rnnkit_packed_product(int rows, int cols, int inner, const float *a, int64_t ld_a,
                           const float *packed, float *out, int64_t ld_out, int accumulate);
void rnnkit_lstm_forward(void *gemm, int steps, int batch, int units, const float *recurrent,
                         float *gates, float *hs, float *cs, float *tanh_c,
                         const uint8_t *mask, const float *packed);
void rnnkit_gru_forward(void *gemm, int steps, int batch, int units, int reset_after,
                        const float *recurrent, float *gates, float *cand, float *hs,
                        const uint8_t *mask, const float *packed, const float *packed_h);
void rnnkit_simple_forward(void *gemm, int steps, int batch, int units, int relu,
                           const float *recurrent, float *hs, const uint8_t *mask,
                           const float *packed);

/* Every row of `out` (rows x width) = bias, or zeros. */
static void fill_rows(int64_t rows, int width, const float *bias, float *out) {
    for (int64_t r = 0; r < rows; ++r) {
        if (bias) memcpy(out + r * width, bias, sizeof(float) * width);
        else memset(out + r * width, 0, sizeof(float) * width);
    }
}

/* Each step's rows of `out` ((steps, batch, width), time-major) += that step's inputs @
   kernel. */
static void project(int steps, int batch, int width, int features, const float *x,
                    int64_t x_batch, int64_t x_step, int backwards, const float *packed_kernel,
                    float *out) {
    for (int t = 0; t < steps; ++t) {
        const float *inputs = x + (int64_t)(backwards ? steps - 1 - t : t) * x_step;
        rnnkit_packed_product(batch, width, features, inputs, x_batch, packed_kernel,
                              out + (int64_t)t * batch * width, width, 1);
    }
}

/* hs (steps + 1, batch, units) holds h_0..h_T: the last into h_out, the others into
   seq_out (batch-major) when it is wanted. */
static void outputs(int steps, int batch, int units, const float *hs, float *h_out,
                    float *seq_out) {
    const int64_t count = (int64_t)batch * units;
    memcpy(h_out, hs + steps * count, sizeof(float) * count);
    if (!seq_out) return;
    for (int b = 0; b < batch; ++b)
        for (int t = 0; t < steps; ++t)
            memcpy(seq_out + ((int64_t)b * steps + t) * units, hs + (t + 1) * count + b * units,
                   sizeof(float) * units);
}

/* LSTM (Keras gate order i, f, c, o): `bias` (4H). */
int rnnkit_lstm_infer(int steps, int batch, int units, int features, const float *x,
                      int64_t x_batch, int64_t x_step, int backwards,
                      const float *packed_kernel, const float *bias, const float *packed_u,
                      const float *h0, const float *c0, float *h_out, float *c_out,
                      float *seq_out) {
    const int64_t count = (int64_t)batch * units, rows = (int64_t)steps * batch;
    /* gates (T, B, 4H), hs and cs (T+1, B, H), tanh_c (T, B, H) */
    float *gates = malloc(sizeof(float) * (rows * 5 * units + 2 * (steps + 1) * count));
    if (!gates) return -1;
    float *hs = gates + rows * 4 * units, *cs = hs + (steps + 1) * count;
    float *tanh_c = cs + (steps + 1) * count;
    fill_rows(rows, 4 * units, bias, gates);
    project(steps, batch, 4 * units, features, x, x_batch, x_step, backwards, packed_kernel,
            gates);
    memcpy(hs, h0, sizeof(float) * count);
    memcpy(cs, c0, sizeof(float) * count);
    rnnkit_lstm_forward(0, steps, batch, units, 0, gates, hs, cs, tanh_c, 0, packed_u);
    memcpy(c_out, cs + steps * count, sizeof(float) * count);
    outputs(steps, batch, units, hs, h_out, seq_out);
    free(gates);
    return 0;
}

/* GRU: `bias` is b_in (3H), `recurrent_bias` b_rec (3H, reset_after only). The projection
   lands in gates (T, B, 3H) on top of [b_in_z + b_rec_z | b_in_r + b_rec_r | b_in_h]; its h
   columns then move to cand (the loop's n) and c becomes b_rec_h, to which the loop adds
   h @ U_h (reset_after; otherwise the loop writes r * h there). packed_u / packed_uh as
   rnnkit_gru_forward's packed / packed_h. */
int rnnkit_gru_infer(int steps, int batch, int units, int features, const float *x,
                     int64_t x_batch, int64_t x_step, int backwards, int reset_after,
                     const float *packed_kernel, const float *bias,
                     const float *recurrent_bias, const float *packed_u,
                     const float *packed_uh, const float *h0, float *h_out, float *seq_out) {
    const int g3 = 3 * units;
    const int64_t count = (int64_t)batch * units, rows = (int64_t)steps * batch;
    /* gates (T, B, 3H), cand (T, B, H), hs (T+1, B, H) */
    float *gates = malloc(sizeof(float) * (rows * 4 * units + (steps + 1) * count));
    if (!gates) return -1;
    float *cand = gates + rows * g3, *hs = cand + rows * units;
    fill_rows(rows, g3, bias, gates);
    if (recurrent_bias)
        for (int64_t r = 0; r < rows; ++r)
            for (int j = 0; j < 2 * units; ++j) gates[r * g3 + j] += recurrent_bias[j];
    project(steps, batch, g3, features, x, x_batch, x_step, backwards, packed_kernel, gates);
    for (int64_t r = 0; r < rows; ++r) {
        float *c = gates + r * g3 + 2 * units;
        memcpy(cand + r * units, c, sizeof(float) * units);
        if (recurrent_bias) memcpy(c, recurrent_bias + 2 * units, sizeof(float) * units);
        else memset(c, 0, sizeof(float) * units);
    }
    memcpy(hs, h0, sizeof(float) * count);
    rnnkit_gru_forward(0, steps, batch, units, reset_after, 0, gates, cand, hs, 0, packed_u,
                       packed_uh);
    outputs(steps, batch, units, hs, h_out, seq_out);
    free(gates);
    return 0;
}

/* SimpleRNN (tanh, or relu with `relu`): hs (T+1, B, H) gets h_0, then bias + x @ kernel
   in hs[1:], then the loop. */
int rnnkit_simple_infer(int steps, int batch, int units, int features, const float *x,
                        int64_t x_batch, int64_t x_step, int backwards, int relu,
                        const float *packed_kernel, const float *bias, const float *packed_u,
                        const float *h0, float *h_out, float *seq_out) {
    const int64_t count = (int64_t)batch * units;
    float *hs = malloc(sizeof(float) * (steps + 1) * count);
    if (!hs) return -1;
    memcpy(hs, h0, sizeof(float) * count);
    fill_rows((int64_t)steps * batch, units, bias, hs + count);
    project(steps, batch, units, features, x, x_batch, x_step, backwards, packed_kernel,
            hs + count);
    rnnkit_simple_forward(0, steps, batch, units, relu, 0, hs, 0, packed_u);
    outputs(steps, batch, units, hs, h_out, seq_out);
    free(hs);
    return 0;
}
