/* rnnkit's own small matrix product for the recurrent step: out (rows x cols) (+)= a @ b,
   with b packed once per call into column panels, float32.

   Why not the BLAS sgemm the other loops call: a recurrent step's product is small (a few
   rows: the batch) and is called once per step, thousands of times per sequence. MKL pays
   a per-call cost there, and on AMD CPUs it runs its generic SSE code for matrix-vector
   shapes (mkl_blas_def_xsgemv: batch 1), which left rnnkit's LSTM loop 1.5x behind oneDNN
   at batch 1. Here b (the recurrent kernel, or its transpose for the backward) is packed
   once per call into panels of 16 columns, each panel `inner` rows of 16 contiguous floats,
   so that a step reads it as one stream; the product keeps its sums in registers
   (4 rows x 16 columns: eight independent FMA chains) and adds each output exactly once,
   summing over k in order.

   Products of fewer than four rows (batch 1 to 3: a matrix-vector product per row) read
   a pack of 64-column panels instead, with software prefetch a few rows ahead: one
   sequential stream that runs at the L3 cache's bandwidth (1 MB of an LSTM(256)'s
   recurrent kernel in 13 us here, against 16.6 us reading four 16-column panels side by
   side, on this project's AMD EPYC). The width is a function of the row count
   (rnnkit_panel_width): whoever packs says how many rows the products will have, and
   the product reads the pack by its own row count.

   The AVX2 + FMA version is chosen at load time (GCC's __builtin_cpu_supports); the
   portable C version is the fallback, and the only one off x86-64. */
#include <stdint.h>
#include <string.h>

#define PANEL 16
#define WIDE 64   /* the panel width for products of fewer than four rows */

/* The width of the panels a product of `rows` rows reads. */
int rnnkit_panel_width(int rows) {
    return rows < 4 ? WIDE : PANEL;
}

/* Floats the packed form of a (inner x cols) matrix takes, for products of `rows` rows:
   whole panels, zero-padded. */
int64_t rnnkit_packed_size(int inner, int cols, int rows) {
    int width = rnnkit_panel_width(rows);
    return (int64_t)((cols + width - 1) / width) * inner * width;
}

/* Pack b into panels of w = rnnkit_panel_width(rows) columns:
   packed[(p * inner + k) * w + c] = b(k, w p + c), zeros past `cols`.
   b(k, j) is b[k * ld_b + j], or with `transpose` b[j * ld_b + k] (b stored as its
   transpose: the recurrent kernel U (H x 4H) read as U^T for the backward's dh = g U^T). */
void rnnkit_pack_panels(int inner, int cols, const float *b, int64_t ld_b, int transpose,
                        int rows, float *packed) {
    int width = rnnkit_panel_width(rows);
    int panels = (cols + width - 1) / width;
    for (int p = 0; p < panels; ++p)
        for (int k = 0; k < inner; ++k) {
            float *dst = packed + ((int64_t)p * inner + k) * width;
            for (int c = 0; c < width; ++c) {
                int j = p * width + c;
                dst[c] = j >= cols ? 0.0f
                         : transpose ? b[(int64_t)j * ld_b + k] : b[(int64_t)k * ld_b + j];
            }
        }
}

/* The portable version: one row and one panel at a time, the sums in a local array. */
static void product_portable(int rows, int cols, int inner, const float *a, int64_t ld_a,
                             const float *packed, float *out, int64_t ld_out, int accumulate) {
    const int w = rnnkit_panel_width(rows);
    int panels = (cols + w - 1) / w;
    for (int p = 0; p < panels; ++p) {
        const float *panel = packed + (int64_t)p * inner * w;
        int first = p * w, width = cols - first < w ? cols - first : w;
        for (int r = 0; r < rows; ++r) {
            const float *row = a + (int64_t)r * ld_a;
            float *dst = out + (int64_t)r * ld_out + first;
            float sums[WIDE];
            for (int c = 0; c < w; ++c) sums[c] = accumulate && c < width ? dst[c] : 0.0f;
            for (int k = 0; k < inner; ++k) {
                const float *bk = panel + (int64_t)k * w;
                float ak = row[k];
                for (int c = 0; c < w; ++c) sums[c] += ak * bk[c];
            }
            for (int c = 0; c < width; ++c) dst[c] = sums[c];
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 6 \
    || defined(__x86_64__) && defined(__clang__)
#define RNNKIT_HAVE_AVX2 1
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

/* Lane masks for a panel's first and second 8 columns when only `width` are real. */
AVX2 static inline void lane_masks(int width, __m256i *low, __m256i *high) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *low = _mm256_cmpgt_epi32(_mm256_set1_epi32(width), lanes);
    *high = _mm256_cmpgt_epi32(_mm256_set1_epi32(width - 8), lanes);
}

AVX2 static inline __m256 load_part(const float *src, __m256i mask, int full, int accumulate) {
    if (!accumulate) return _mm256_setzero_ps();
    return full ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, mask);
}

AVX2 static inline void store_part(float *dst, __m256i mask, int full, __m256 value) {
    if (full) _mm256_storeu_ps(dst, value);
    else _mm256_maskstore_ps(dst, mask, value);
}

/* Four rows times one panel: eight accumulators. */
AVX2 static void block_4x16(int inner, const float *a, int64_t ld_a, const float *panel,
                            float *out, int64_t ld_out, int width, int accumulate) {
    __m256i low, high;
    lane_masks(width, &low, &high);
    int full = width == PANEL;
    __m256 c[4][2];
    for (int r = 0; r < 4; ++r) {
        c[r][0] = load_part(out + r * ld_out, low, full, accumulate && width > 0);
        c[r][1] = load_part(out + r * ld_out + 8, high, full, accumulate && width > 8);
    }
    const float *a0 = a, *a1 = a + ld_a, *a2 = a + 2 * ld_a, *a3 = a + 3 * ld_a;
    for (int k = 0; k < inner; ++k) {
        __m256 b0 = _mm256_loadu_ps(panel + (int64_t)k * PANEL);
        __m256 b1 = _mm256_loadu_ps(panel + (int64_t)k * PANEL + 8);
        __m256 x = _mm256_broadcast_ss(a0 + k);
        c[0][0] = _mm256_fmadd_ps(x, b0, c[0][0]);
        c[0][1] = _mm256_fmadd_ps(x, b1, c[0][1]);
        x = _mm256_broadcast_ss(a1 + k);
        c[1][0] = _mm256_fmadd_ps(x, b0, c[1][0]);
        c[1][1] = _mm256_fmadd_ps(x, b1, c[1][1]);
        x = _mm256_broadcast_ss(a2 + k);
        c[2][0] = _mm256_fmadd_ps(x, b0, c[2][0]);
        c[2][1] = _mm256_fmadd_ps(x, b1, c[2][1]);
        x = _mm256_broadcast_ss(a3 + k);
        c[3][0] = _mm256_fmadd_ps(x, b0, c[3][0]);
        c[3][1] = _mm256_fmadd_ps(x, b1, c[3][1]);
    }
    for (int r = 0; r < 4; ++r) {
        store_part(out + r * ld_out, low, full, c[r][0]);
        if (width > 8) store_part(out + r * ld_out + 8, high, full, c[r][1]);
    }
}

/* One row times up to four 16-column panels (a row left over after the blocks of four):
   eight accumulators. `count` panels start at `panel`; the last has `last_width` real
   columns. */
AVX2 static void block_1x4panels(int inner, const float *a, const float *panel, float *out,
                                 int count, int last_width, int accumulate) {
    __m256 c[8];
    __m256i masks[8];
    int widths[4];
    for (int q = 0; q < 4; ++q) {
        widths[q] = q < count - 1 ? PANEL : q == count - 1 ? last_width : 0;
        lane_masks(widths[q], &masks[2 * q], &masks[2 * q + 1]);
        c[2 * q] = load_part(out + q * PANEL, masks[2 * q], 0, accumulate && widths[q] > 0);
        c[2 * q + 1] = load_part(out + q * PANEL + 8, masks[2 * q + 1], 0,
                                 accumulate && widths[q] > 8);
    }
    const int64_t step = (int64_t)inner * PANEL;   /* from one panel to the next */
    if (count == 4) {   /* named sums: GCC kept the array on the stack, stored at every k */
        __m256 c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3], c4 = c[4], c5 = c[5], c6 = c[6],
               c7 = c[7];
        for (int k = 0; k < inner; ++k) {
            const float *bk = panel + (int64_t)k * PANEL;
            __m256 x = _mm256_broadcast_ss(a + k);
            c0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk), c0);
            c1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 8), c1);
            c2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + step), c2);
            c3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + step + 8), c3);
            c4 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 2 * step), c4);
            c5 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 2 * step + 8), c5);
            c6 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 3 * step), c6);
            c7 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 3 * step + 8), c7);
        }
        c[0] = c0, c[1] = c1, c[2] = c2, c[3] = c3, c[4] = c4, c[5] = c5, c[6] = c6, c[7] = c7;
    } else {   /* the last panels of a row: up to three */
        for (int k = 0; k < inner; ++k) {
            const float *bk = panel + (int64_t)k * PANEL;
            __m256 x = _mm256_broadcast_ss(a + k);
            for (int q = 0; q < count; ++q) {
                c[2 * q] = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + q * step), c[2 * q]);
                c[2 * q + 1] = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + q * step + 8),
                                               c[2 * q + 1]);
            }
        }
    }
    for (int q = 0; q < count; ++q) {
        store_part(out + q * PANEL, masks[2 * q], 0, c[2 * q]);
        store_part(out + q * PANEL + 8, masks[2 * q + 1], 0, c[2 * q + 1]);
    }
}

/* One row times one 64-column panel (the matrix-vector case): eight accumulators, the
   panel read as one stream, prefetched PREFETCH floats (four of its rows) ahead: the
   hardware's prefetcher alone left the stream at about 75 % of the L3 cache's bandwidth.
   The last panel has `width` real columns. */
#define PREFETCH 256
AVX2 static void block_1x64(int inner, const float *a, const float *panel, float *out,
                            int width, int accumulate) {
    __m256i m[8];
    for (int q = 0; q < 4; ++q) lane_masks(width - 16 * q, &m[2 * q], &m[2 * q + 1]);
#define START(q) load_part(out + 8 * (q), m[q], 0, accumulate && width > 8 * (q))
    /* eight named sums: GCC kept an array of them on the stack, stored at every k */
    __m256 c0 = START(0), c1 = START(1), c2 = START(2), c3 = START(3), c4 = START(4),
           c5 = START(5), c6 = START(6), c7 = START(7);
#undef START
    const float *bk = panel;
    for (int k = 0; k < inner; ++k, bk += WIDE) {
        _mm_prefetch((const char *)(bk + PREFETCH), _MM_HINT_T0);   /* four cache lines */
        _mm_prefetch((const char *)(bk + PREFETCH + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(bk + PREFETCH + 32), _MM_HINT_T0);
        _mm_prefetch((const char *)(bk + PREFETCH + 48), _MM_HINT_T0);
        __m256 x = _mm256_broadcast_ss(a + k);
        c0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk), c0);
        c1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 8), c1);
        c2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 16), c2);
        c3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 24), c3);
        c4 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 32), c4);
        c5 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 40), c5);
        c6 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 48), c6);
        c7 = _mm256_fmadd_ps(x, _mm256_loadu_ps(bk + 56), c7);
    }
    const __m256 sums[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
    for (int q = 0; q < 8; ++q)
        if (width > 8 * q) store_part(out + 8 * q, m[q], width >= 8 * q + 8, sums[q]);
}

/* Panels outer, rows inner: a panel (inner x 16 floats) stays in L1/L2 while the rows of
   a stream past it; rows left over after the blocks of four take 16-column panels four at a
   time (four panels side by side), and products of fewer than four rows read their
   64-column pack panel by panel. */
AVX2 static void product_avx2(int rows, int cols, int inner, const float *a, int64_t ld_a,
                              const float *packed, float *out, int64_t ld_out, int accumulate) {
    if (rnnkit_panel_width(rows) == WIDE) {
        for (int r = 0; r < rows; ++r)
            for (int first = 0; first < cols; first += WIDE)
                block_1x64(inner, a + r * ld_a, packed + (int64_t)first * inner,
                           out + r * ld_out + first, cols - first < WIDE ? cols - first : WIDE,
                           accumulate);
        return;
    }
    int panels = (cols + PANEL - 1) / PANEL;
    int last_width = cols - (panels - 1) * PANEL;
    int quads = rows & ~3;
    for (int p = 0; p < panels; ++p) {
        const float *panel = packed + (int64_t)p * inner * PANEL;
        int width = p == panels - 1 ? last_width : PANEL;
        for (int r = 0; r < quads; r += 4)
            block_4x16(inner, a + r * ld_a, ld_a, panel, out + r * ld_out + p * PANEL, ld_out,
                       width, accumulate);
    }
    for (int r = quads; r < rows; ++r)   /* the rows past the last block of four */
        for (int p = 0; p < panels; p += 4) {
            int count = panels - p < 4 ? panels - p : 4;
            block_1x4panels(inner, a + r * ld_a, packed + (int64_t)p * inner * PANEL,
                            out + r * ld_out + p * PANEL, count,
                            p + count == panels ? last_width : PANEL, accumulate);
        }
}
#endif

typedef void (*product_fn)(int, int, int, const float *, int64_t, const float *, float *,
                           int64_t, int);

static product_fn chosen;

static product_fn choose(void) {
#ifdef RNNKIT_HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return product_avx2;
#endif
    return product_portable;
}

/* Which version runs here: 2 for AVX2 + FMA, 0 for the portable C (tests and the loader
   report it). */
int rnnkit_product_isa(void) {
    if (!chosen) chosen = choose();
    return chosen == product_portable ? 0 : 2;
}

/* out (rows x cols, rows ld_out apart) = [out +] a (rows x inner, ld_a) @ b, b packed by
   rnnkit_pack_panels. */
void rnnkit_packed_product(int rows, int cols, int inner, const float *a, int64_t ld_a,
                           const float *packed, float *out, int64_t ld_out, int accumulate) {
    if (!chosen) chosen = choose();
    if (rows <= 0 || cols <= 0) return;
    chosen(rows, cols, inner, a, ld_a, packed, out, ld_out, accumulate);
}

/* Force the portable version (0) or the best one (1): tests compare the two. */
void rnnkit_product_force_portable(int portable) {
    chosen = portable ? product_portable : choose();
}
