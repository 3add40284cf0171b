/* GRU and SimpleRNN forwards for inference in one C call each, as rnnkit_lstm_infer
   (packed_product.c) is for the LSTM: for short calls (a stateful layer fed one step at a
   time, batch 1) where each torch op around the loop would cost more than the step. The
   input projection x @ kernel goes through rnnkit's packed product onto the biases, the
   initial state is copied into hs[0], then the loops of rnn_loops.c run with the packed
   recurrent kernel. Buffers and layouts are those of rnn_loops.c; x holds steps * batch
   rows of `features` (time-major); any bias may be NULL. */
#include <stdint.h>
#include <string.h>

void rnnkit_packed_product(int rows, int cols, int inner, const float *a, int64_t ld_a,
                           const float *packed, float *out, int64_t ld_out, int accumulate);
void rnnkit_gru_forward(void *gemm, int steps, int batch, int units, int reset_after,
                        const float *recurrent, float *gates, float *cand, float *hs,
                        const uint8_t *mask, const float *packed, const float *packed_h);
void rnnkit_simple_forward(void *gemm, int steps, int batch, int units, int relu,
                           const float *recurrent, float *hs, const uint8_t *mask,
                           const float *packed);

/* GRU: `bias` is b_in (3H), `recurrent_bias` b_rec (3H, reset_after only). The projection
   lands in gates (T, B, 3H) on top of [b_in_z + b_rec_z | b_in_r + b_rec_r | b_in_h]; its h
   columns then move to cand (the loop's n) and c becomes b_rec_h, to which the loop adds
   h @ U_h (reset_after; otherwise the loop writes r * h there). packed_u / packed_uh as
   rnnkit_gru_forward's packed / packed_h. */
void rnnkit_gru_infer(int steps, int batch, int units, int features, int reset_after,
                      const float *x, const float *packed_kernel, const float *bias,
                      const float *recurrent_bias, const float *packed_u,
                      const float *packed_uh, const float *h0, float *gates, float *cand,
                      float *hs) {
    const int g3 = 3 * units;
    const int64_t rows = (int64_t)steps * batch;
    for (int64_t r = 0; r < rows; ++r) {
        float *row = gates + r * g3;
        if (bias) memcpy(row, bias, sizeof(float) * g3);
        else memset(row, 0, sizeof(float) * g3);
        if (recurrent_bias)
            for (int j = 0; j < 2 * units; ++j) row[j] += recurrent_bias[j];
    }
    rnnkit_packed_product((int)rows, g3, features, x, features, packed_kernel, gates, g3, 1);
    for (int64_t r = 0; r < rows; ++r) {
        float *c = gates + r * g3 + 2 * units;
        memcpy(cand + r * units, c, sizeof(float) * units);
        if (recurrent_bias) memcpy(c, recurrent_bias + 2 * units, sizeof(float) * units);
        else memset(c, 0, sizeof(float) * units);
    }
    memcpy(hs, h0, sizeof(float) * batch * units);
    rnnkit_gru_forward(0, steps, batch, units, reset_after, 0, gates, cand, hs, 0, packed_u,
                       packed_uh);
}

/* SimpleRNN: hs (T+1, B, H) gets h_0, then bias + x @ kernel in hs[1:], then the loop. */
void rnnkit_simple_infer(int steps, int batch, int units, int features, int relu,
                         const float *x, const float *packed_kernel, const float *bias,
                         const float *packed_u, const float *h0, float *hs) {
    const int64_t count = (int64_t)batch * units, rows = (int64_t)steps * batch;
    memcpy(hs, h0, sizeof(float) * count);
    float *pre = hs + count;
    for (int64_t r = 0; r < rows; ++r) {
        if (bias) memcpy(pre + r * units, bias, sizeof(float) * units);
        else memset(pre + r * units, 0, sizeof(float) * units);
    }
    rnnkit_packed_product((int)rows, units, features, x, features, packed_kernel, pre, units, 1);
    rnnkit_simple_forward(0, steps, batch, units, relu, 0, hs, 0, packed_u);
}
