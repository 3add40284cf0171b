/* rnnkit's GRU and SimpleRNN time loops in C, float32, for the CPU.

   The Python loops of rnnkit_loop.py spend, per step, a few microseconds of dispatch on
   each of five or six small ops around the recurrent product (and torch.tanh is slow on
   some CPUs). Here one call runs every step: the recurrent product through the same BLAS
   sgemm that torch.mm calls (its address is passed in by the loader: torch's own MKL),
   the gate math fused into one pass over each step's rows.

   Layouts are those of rnnkit_loop.py (see GRUSequence's docstring), all row-major and
   contiguous unless a leading dimension says otherwise:
     gates (T, B, 3H) [z | r | c], cand (T, B, H) n, hs (T+1, B, H) h_0..h_T,
     recurrent (H, 3H) for GRU, (H, H) for SimpleRNN;
   backward chunks: factors (size, B, 4H) [z | r | c | n], grads (size, B, 4H).
   The activations match torch's to a few units in the last place (Cephes' expf and
   tanhf approximations, written so that the compiler vectorizes the loops). */
#include <stdint.h>
#include <string.h>

/* The exported loops are compiled for AVX-512, AVX2+FMA and baseline x86-64, and the
   loader picks the one the CPU runs (GNU ifunc); elsewhere the compiler's default. */
#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || __GNUC__ >= 11)
#define VECTORIZED __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTORIZED
#endif

/* packed_product.c: rnnkit's own product against a matrix packed once per call */
void rnnkit_packed_product(int rows, int cols, int inner, const float *a, int64_t ld_a,
                           const float *packed, float *out, int64_t ld_out, int accumulate);

typedef void (*sgemm_fn)(const char *transa, const char *transb, const int *m, const int *n,
                         const int *k, const float *alpha, const float *a, const int *lda,
                         const float *b, const int *ldb, const float *beta, float *c,
                         const int *ldc);

/* out (rows x cols, ld_out) = beta * out + a (rows x inner, ld_a) @ b, row-major.
   b is (inner x cols, ld_b), or with transpose_b its transpose: stored (cols x inner).
   Row-major C = A B is column-major C^T = B^T A^T: the operands swap places. */
static void matmul(sgemm_fn gemm, int rows, int cols, int inner, const float *a, int ld_a,
                   const float *b, int ld_b, int transpose_b, float beta, float *out,
                   int ld_out) {
    const float one = 1.0f;
    gemm(transpose_b ? "T" : "N", "N", &cols, &rows, &inner, &one, b, &ld_b, a, &ld_a,
         &beta, out, &ld_out);
}

/* exp(x) for x in [-87.3, 88.7] (inputs are clamped there), Cephes expf. */
static inline float fast_exp(float x) {
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447505531f ? -87.3365447505531f : x;
    /* n = round(x / ln 2): adding and removing 1.5 * 2^23 rounds to an integer (floorf would
       need SSE4.1 to vectorize) */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    x = x - n * 0.693359375f - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * x + 1.3981999507E-3f;
    p = p * x + 8.3334519073E-3f;
    p = p * x + 4.1665795894E-2f;
    p = p * x + 1.6666665459E-1f;
    p = p * x + 5.0000001201E-1f;
    p = p * x * x + x + 1.0f;
    union { int32_t i; float f; } scale;
    scale.i = ((int32_t)n + 127) << 23;   /* 2^n; n in [-126, 127] after the clamp */
    return p * scale.f;
}

static inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

/* Cephes tanhf: an odd polynomial near zero (no cancellation), 1 - 2 / (e^2|x| + 1) beyond. */
static inline float fast_tanh(float x) {
    float a = x < 0.0f ? -x : x;
    float z = x * x;
    float small = ((((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z
                    + 1.33314422036E-1f) * z - 3.33332819422E-1f) * z * x + x;
    float large = 1.0f - 2.0f / (fast_exp(a + a) + 1.0f);
    large = x < 0.0f ? -large : large;
    return a > 0.625f ? large : small;
}

VECTORIZED void rnnkit_sigmoid(float *x, int64_t count) {
    for (int64_t i = 0; i < count; ++i) x[i] = fast_sigmoid(x[i]);
}

VECTORIZED void rnnkit_tanh(float *x, int64_t count) {
    for (int64_t i = 0; i < count; ++i) x[i] = fast_tanh(x[i]);
}

/* Keras masking: where mask[t, b] is 0 the row keeps its state, h_t = h_{t-1} (and so
   its output repeats the previous one). `mask` (T, B) may be NULL: no step is masked. */
static void keep_masked_rows(const uint8_t *mask, int batch, int units, const float *h,
                             float *h_next) {
    if (!mask) return;
    for (int b = 0; b < batch; ++b)
        if (!mask[b]) memcpy(h_next + (int64_t)b * units, h + (int64_t)b * units,
                             sizeof(float) * units);
}

/* dh = grads (B x inner, rows `inner` apart) @ U^T, U stored (H x inner): straight into dh,
   or, with `kept` (one step's mask row), into `scratch` first, of which only the unmasked
   rows are taken: a masked row passes dh through unchanged. With `packed_t` (U^T packed by
   rnnkit_pack_panels) the product is rnnkit's own instead of sgemm. */
static void masked_product_into_dh(sgemm_fn gemm, int batch, int units, int inner,
                                   const float *grads, const float *recurrent,
                                   const float *packed_t, const uint8_t *kept, float *scratch,
                                   float *dh) {
    if (packed_t)
        rnnkit_packed_product(batch, units, inner, grads, inner, packed_t, kept ? scratch : dh,
                              units, 0);
    else
        matmul(gemm, batch, units, inner, grads, inner, recurrent, inner, 1, 0.0f,
               kept ? scratch : dh, units);
    if (!kept) return;
    for (int b = 0; b < batch; ++b)
        if (kept[b]) memcpy(dh + (int64_t)b * units, scratch + (int64_t)b * units,
                            sizeof(float) * units);
}

/* GRU forward over `steps`. reset_after: the product h @ U adds to all of [z | r | c] and
   n = tanh(n + r * c); otherwise it adds to [z | r], c becomes r * h_{t-1} and the
   product c @ U_h adds to n. h_t = z * h_{t-1} + (1 - z) * n; masked rows keep h_{t-1}.
   With `packed` the recurrent products are rnnkit's own (packed_product.c) instead of
   sgemm: `packed` holds U (H x 3H) packed by rnnkit_pack_panels (reset_after), or U's z, r
   columns (H x 2H) with `packed_h` its h columns (H x H). */
VECTORIZED void rnnkit_gru_forward(sgemm_fn gemm, int steps, int batch, int units,
                                   int reset_after, const float *recurrent, float *gates,
                                   float *cand, float *hs, const uint8_t *mask,
                                   const float *packed, const float *packed_h) {
    const int g3 = 3 * units;
    for (int t = 0; t < steps; ++t) {
        float *zrc = gates + (int64_t)t * batch * g3;
        float *n = cand + (int64_t)t * batch * units;
        const float *h = hs + (int64_t)t * batch * units;
        float *h_next = hs + (int64_t)(t + 1) * batch * units;
        if (packed)
            rnnkit_packed_product(batch, reset_after ? g3 : 2 * units, units, h, units, packed,
                                  zrc, g3, 1);
        else
            matmul(gemm, batch, reset_after ? g3 : 2 * units, units, h, units, recurrent, g3,
                   0, 1.0f, zrc, g3);
        for (int b = 0; b < batch; ++b) {
            float *row = zrc + (int64_t)b * g3;
            for (int j = 0; j < 2 * units; ++j) row[j] = fast_sigmoid(row[j]);
        }
        if (!reset_after) {
            for (int b = 0; b < batch; ++b) {
                const float *r = zrc + (int64_t)b * g3 + units;
                float *c = zrc + (int64_t)b * g3 + 2 * units;
                const float *hb = h + (int64_t)b * units;
                for (int j = 0; j < units; ++j) c[j] = r[j] * hb[j];
            }
            if (packed)
                rnnkit_packed_product(batch, units, units, zrc + 2 * units, g3, packed_h, n,
                                      units, 1);
            else
                matmul(gemm, batch, units, units, zrc + 2 * units, g3, recurrent + 2 * units,
                       g3, 0, 1.0f, n, units);
        }
        for (int b = 0; b < batch; ++b) {
            const float *z = zrc + (int64_t)b * g3, *r = z + units, *c = z + 2 * units;
            const float *hb = h + (int64_t)b * units;
            float *nb = n + (int64_t)b * units, *out = h_next + (int64_t)b * units;
            if (reset_after)
                for (int j = 0; j < units; ++j) nb[j] = fast_tanh(nb[j] + r[j] * c[j]);
            else
                for (int j = 0; j < units; ++j) nb[j] = fast_tanh(nb[j]);
            for (int j = 0; j < units; ++j) out[j] = nb[j] + z[j] * (hb[j] - nb[j]);
        }
        keep_masked_rows(mask ? mask + (int64_t)t * batch : 0, batch, units, h, h_next);
    }
}

/* dh += d_out[step] (rows of `d_out` are `out_row` apart; NULL: no per-step gradients). */
static void add_incoming(float *dh, const float *d_out, int64_t out_row, int batch, int units) {
    if (!d_out) return;
    for (int b = 0; b < batch; ++b) {
        const float *src = d_out + b * out_row;
        float *dst = dh + (int64_t)b * units;
        for (int j = 0; j < units; ++j) dst[j] += src[j];
    }
}

/* The reverse-time chain of GRUSequence.backward over one chunk of `size` steps, last first.
   `dh` (B, H) enters as the gradient reaching h at the chunk's end and leaves as the one
   reaching h at its start (not updated past step 0 of the chunk when `last_product` is 0).
   d_out: the gradient of step `first` of the chunk, `out_step` apart per step, `out_row` per
   batch row (NULL: none). reset_after: grads = dh * factors, dh = dh * z + grads[:, :3H] U^T.
   Otherwise factors' r and c columns are unused: r_slope (size, B, H) holds r (1 - r) h_{t-1}.
   A masked (step, row) (mask from the chunk's first step, NULL: none) passes dh through
   unchanged and has zero gradients. */
VECTORIZED void rnnkit_gru_backward_chunk(sgemm_fn gemm, int size, int batch, int units,
                                          int reset_after, const float *recurrent,
                                          const float *gates, const float *factors,
                                          const float *r_slope, const float *d_out,
                                          int64_t out_step, int64_t out_row, float *grads,
                                          float *dh, int last_product, const uint8_t *mask) {
    const int g3 = 3 * units, g4 = 4 * units;
    for (int k = size - 1; k >= 0; --k) {
        const float *zrc = gates + (int64_t)k * batch * g3;
        const float *f = factors + (int64_t)k * batch * g4;
        float *g = grads + (int64_t)k * batch * g4;
        add_incoming(dh, d_out ? d_out + k * out_step : 0, out_row, batch, units);
        int product = k > 0 || last_product;
        const uint8_t *kept = mask ? mask + (int64_t)k * batch : 0;
        if (reset_after) {
            for (int b = 0; b < batch; ++b) {
                float *dhb = dh + (int64_t)b * units, *gb = g + (int64_t)b * g4;
                const float *fb = f + (int64_t)b * g4, *z = zrc + (int64_t)b * g3;
                if (kept && !kept[b]) {   /* h_t = h_{t-1}: dh passes, no gate gradients */
                    memset(gb, 0, sizeof(float) * g4);
                    continue;
                }
                for (int q = 0; q < 4; ++q)
                    for (int j = 0; j < units; ++j) gb[q * units + j] = dhb[j] * fb[q * units + j];
                for (int j = 0; j < units; ++j) dhb[j] *= z[j];
            }
            if (product)
                matmul(gemm, batch, units, g3, g, g4, recurrent, g3, 1, 1.0f, dh, units);
            continue;
        }
        const float *slope = r_slope + (int64_t)k * batch * units;
        for (int b = 0; b < batch; ++b) {
            const float *dhb = dh + (int64_t)b * units, *fb = f + (int64_t)b * g4;
            float *gb = g + (int64_t)b * g4;
            if (kept && !kept[b]) {
                memset(gb, 0, sizeof(float) * g4);
                continue;
            }
            for (int j = 0; j < units; ++j) gb[j] = dhb[j] * fb[j];                      /* z */
            for (int j = 0; j < units; ++j) gb[g3 + j] = dhb[j] * fb[g3 + j];            /* n */
        }
        /* d(r * h) = grads_n U_h^T, kept in the c columns */
        matmul(gemm, batch, units, units, g + g3, g4, recurrent + 2 * units, g3, 1, 0.0f,
               g + 2 * units, g4);
        for (int b = 0; b < batch; ++b) {
            float *gb = g + (int64_t)b * g4, *dhb = dh + (int64_t)b * units;
            const float *sb = slope + (int64_t)b * units;
            const float *z = zrc + (int64_t)b * g3, *r = z + units;
            if (kept && !kept[b]) continue;   /* its grads are zero, d(r * h) too */
            for (int j = 0; j < units; ++j) {
                float d_reset_h = gb[2 * units + j];
                gb[units + j] = d_reset_h * sb[j];
                dhb[j] = dhb[j] * z[j] + d_reset_h * r[j];
            }
        }
        if (product)
            matmul(gemm, batch, units, 2 * units, g, g4, recurrent, g3, 1, 1.0f, dh, units);
    }
}

/* SimpleRNN forward: hs[1:] holds x @ kernel + b; h_t = act(that + h_{t-1} @ U); masked
   rows keep h_{t-1}. With `packed` (U packed by rnnkit_pack_panels) the product is
   rnnkit's own instead of sgemm. */
VECTORIZED void rnnkit_simple_forward(sgemm_fn gemm, int steps, int batch, int units,
                                      int relu, const float *recurrent, float *hs,
                                      const uint8_t *mask, const float *packed) {
    const int64_t count = (int64_t)batch * units;
    for (int t = 0; t < steps; ++t) {
        float *h_next = hs + (t + 1) * count;
        if (packed)
            rnnkit_packed_product(batch, units, units, hs + t * count, units, packed, h_next,
                                  units, 1);
        else
            matmul(gemm, batch, units, units, hs + t * count, units, recurrent, units, 0, 1.0f,
                   h_next, units);
        if (relu)
            for (int64_t i = 0; i < count; ++i) h_next[i] = h_next[i] > 0.0f ? h_next[i] : 0.0f;
        else
            for (int64_t i = 0; i < count; ++i) h_next[i] = fast_tanh(h_next[i]);
        keep_masked_rows(mask ? mask + (int64_t)t * batch : 0, batch, units, hs + t * count,
                         h_next);
    }
}

/* SimpleRNN's reverse chain over a chunk: d_pre = dh * slope, dh = d_pre U^T. A masked
   (step, row) has d_pre 0 and passes dh through (masked_product_into_dh). */
VECTORIZED void rnnkit_simple_backward_chunk(sgemm_fn gemm, int size, int batch, int units,
                                             const float *recurrent, const float *slope,
                                             const float *d_out, int64_t out_step,
                                             int64_t out_row, float *d_pre, float *dh,
                                             int last_product, const uint8_t *mask,
                                             float *scratch) {
    const int64_t count = (int64_t)batch * units;
    for (int k = size - 1; k >= 0; --k) {
        add_incoming(dh, d_out ? d_out + k * out_step : 0, out_row, batch, units);
        float *d = d_pre + k * count;
        const float *s = slope + k * count;
        const uint8_t *kept = mask ? mask + (int64_t)k * batch : 0;
        for (int64_t i = 0; i < count; ++i) d[i] = dh[i] * s[i];
        if (kept)
            for (int b = 0; b < batch; ++b)
                if (!kept[b]) memset(d + (int64_t)b * units, 0, sizeof(float) * units);
        if (k > 0 || last_product)
            masked_product_into_dh(gemm, batch, units, units, d, recurrent, 0, kept, scratch,
                                   dh);
    }
}

/* One LSTM step for units [first, last) of one row: `gates` is the row's [i | f | c | o]
   pre-activations (4 x units), made activations in place; c the previous cell state,
   c_next, tanh_c and h_next the new ones (all indexed by unit). c_t = f c_{t-1} + i c~,
   h_t = o tanh(c_t). One loop per output: GCC vectorizes each, and not their fusion. */
static inline void lstm_units(int units, int first, int last, float *gates, const float *c,
                              float *c_next, float *tanh_c, float *h_next) {
    float *i = gates, *f = gates + units, *g = gates + 2 * units, *o = gates + 3 * units;
    for (int j = first; j < last; ++j) i[j] = fast_sigmoid(i[j]);
    for (int j = first; j < last; ++j) f[j] = fast_sigmoid(f[j]);
    for (int j = first; j < last; ++j) g[j] = fast_tanh(g[j]);
    for (int j = first; j < last; ++j) o[j] = fast_sigmoid(o[j]);
    for (int j = first; j < last; ++j) c_next[j] = f[j] * c[j] + i[j] * g[j];
    for (int j = first; j < last; ++j) tanh_c[j] = fast_tanh(c_next[j]);
    for (int j = first; j < last; ++j) h_next[j] = o[j] * tanh_c[j];
}

/* lstm_units for the column-parallel batch-1 loop of lstm_calls.c (exported so that it is
   compiled, as the loops here, for the CPU it runs on). */
VECTORIZED void rnnkit_lstm_units(int units, int first, int last, float *gates,
                                  const float *c, float *c_next, float *tanh_c,
                                  float *h_next) {
    lstm_units(units, first, last, gates, c, c_next, tanh_c, h_next);
}

/* LSTM forward (Keras gate order i, f, c, o): gates (T, B, 4H) hold x @ kernel + b and
   become the activations; cs (T+1, B, H) the cell states, tanh_c (T, B, H) tanh(c_t) for the
   backward, hs (T+1, B, H) the outputs. c_t = f c_{t-1} + i c~, h_t = o tanh(c_t); masked
   rows keep both h_{t-1} and c_{t-1}. With `packed` (U packed by rnnkit_pack_panels) the
   recurrent product is rnnkit's own (packed_product.c) instead of sgemm. The buffers hold
   `stride` rows a step, of which this runs `batch` (a slice of the batch: the pointers
   start at its first row; lstm_calls.c runs slices on threads of their own). */
VECTORIZED void rnnkit_lstm_forward_rows(sgemm_fn gemm, int steps, int batch, int stride,
                                         int units, const float *recurrent, float *gates,
                                         float *hs, float *cs, float *tanh_c,
                                         const uint8_t *mask, const float *packed) {
    const int g4 = 4 * units;
    const int64_t count = (int64_t)stride * units;
    for (int t = 0; t < steps; ++t) {
        float *step_gates = gates + t * count * 4;
        if (packed)
            rnnkit_packed_product(batch, g4, units, hs + t * count, units, packed, step_gates,
                                  g4, 1);
        else
            matmul(gemm, batch, g4, units, hs + t * count, units, recurrent, g4, 0, 1.0f,
                   step_gates, g4);
        for (int b = 0; b < batch; ++b) {
            int64_t row = (int64_t)b * units;
            lstm_units(units, 0, units, step_gates + row * 4, cs + t * count + row,
                       cs + (t + 1) * count + row, tanh_c + t * count + row,
                       hs + (t + 1) * count + row);
        }
        const uint8_t *kept = mask ? mask + (int64_t)t * stride : 0;
        keep_masked_rows(kept, batch, units, hs + t * count, hs + (t + 1) * count);
        keep_masked_rows(kept, batch, units, cs + t * count, cs + (t + 1) * count);
    }
}

/* The whole batch. */
VECTORIZED void rnnkit_lstm_forward(sgemm_fn gemm, int steps, int batch, int units,
                                    const float *recurrent, float *gates, float *hs, float *cs,
                                    float *tanh_c, const uint8_t *mask, const float *packed) {
    rnnkit_lstm_forward_rows(gemm, steps, batch, batch, units, recurrent, gates, hs, cs, tanh_c,
                             mask, packed);
}

/* LSTM's reverse chain over one chunk, last step first: gates, cs (from the chunk's c_{t-1})
   and tanh_c start at the chunk's first step; grads (size, B, 4H) get the pre-activations'
   gradients [i | f | c | o]. dh and dc enter as the gradients reaching the chunk's last h and
   c and leave as those reaching the states before its first step (dh not past step 0 when
   `last_product` is 0). A masked (step, row) passes dh and dc through with zero gradients
   (masked_product_into_dh; `packed_t`: U^T packed, or NULL for sgemm). The buffers hold
   `stride` rows a step, of which this runs `batch` (a slice of the batch: every pointer
   starts at its first row; dh, dc and scratch are (B, H) and d_out's rows `out_row` apart). */
VECTORIZED void rnnkit_lstm_backward_rows(sgemm_fn gemm, int size, int batch, int stride,
                                          int units, const float *recurrent, const float *gates,
                                          const float *cs, const float *tanh_c,
                                          const float *d_out, int64_t out_step,
                                          int64_t out_row, float *grads, float *dh, float *dc,
                                          int last_product, const uint8_t *mask,
                                          float *scratch, const float *packed_t) {
    const int g4 = 4 * units;
    const int64_t count = (int64_t)stride * units;
    for (int k = size - 1; k >= 0; --k) {
        add_incoming(dh, d_out ? d_out + k * out_step : 0, out_row, batch, units);
        const uint8_t *kept = mask ? mask + (int64_t)k * stride : 0;
        for (int b = 0; b < batch; ++b) {
            const float *i = gates + (k * count + (int64_t)b * units) * 4, *f = i + units;
            const float *g = i + 2 * units, *o = i + 3 * units;
            const float *c = cs + k * count + (int64_t)b * units;
            const float *tc = tanh_c + k * count + (int64_t)b * units;
            float *d = grads + (k * count + (int64_t)b * units) * 4;
            float *dhb = dh + (int64_t)b * units, *dcb = dc + (int64_t)b * units;
            if (kept && !kept[b]) {
                memset(d, 0, sizeof(float) * g4);
                continue;
            }
            /* one loop per output: GCC vectorizes these, not their fusion (too many
               possibly aliasing arrays); dcb holds d_c, the gradient reaching c_t, between */
            for (int j = 0; j < units; ++j) dcb[j] += dhb[j] * o[j] * (1.0f - tc[j] * tc[j]);
            for (int j = 0; j < units; ++j) d[j] = dcb[j] * g[j] * i[j] * (1.0f - i[j]);
            for (int j = 0; j < units; ++j)
                d[units + j] = dcb[j] * c[j] * f[j] * (1.0f - f[j]);
            for (int j = 0; j < units; ++j)
                d[2 * units + j] = dcb[j] * i[j] * (1.0f - g[j] * g[j]);
            for (int j = 0; j < units; ++j)
                d[3 * units + j] = dhb[j] * tc[j] * o[j] * (1.0f - o[j]);
            for (int j = 0; j < units; ++j) dcb[j] *= f[j];
        }
        if (k > 0 || last_product)
            masked_product_into_dh(gemm, batch, units, g4, grads + k * count * 4, recurrent,
                                   packed_t, kept, scratch, dh);
    }
}

/* The whole batch. */
VECTORIZED void rnnkit_lstm_backward_chunk(sgemm_fn gemm, int size, int batch, int units,
                                           const float *recurrent, const float *gates,
                                           const float *cs, const float *tanh_c,
                                           const float *d_out, int64_t out_step,
                                           int64_t out_row, float *grads, float *dh, float *dc,
                                           int last_product, const uint8_t *mask,
                                           float *scratch, const float *packed_t) {
    rnnkit_lstm_backward_rows(gemm, size, batch, batch, units, recurrent, gates, cs, tanh_c,
                              d_out, out_step, out_row, grads, dh, dc, last_product, mask,
                              scratch, packed_t);
}
