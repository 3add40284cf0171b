/* Can a batch-1 LSTM step hide the input projection behind its recurrent product?

   W6 (batch 1, 2000 steps, 256 features, LSTM(256)) at one thread spends about 13 us a step
   streaming the 1 MB recurrent kernel from L3 (a 64-column-panel matrix-vector product, as
   packed_product.c's block_1x64) and about 6 us a step of input projection (MKL, 2000 x 256
   by 256 x 1024). The product leaves the FMA units idle part of each iteration, so this
   probe interleaves a register block of the projection into the product's k loop (same k:
   features = units = 256) and times, per step:
     matvec    the product alone (16 panels of 64 columns)
     proj      one step's worth of projection alone (16 blocks of 4 rows x 16 columns:
               4 x 256 outputs = a quarter of 4 rows' 1024, i.e. one row's MACs)
     fused     both in one loop (16 accumulators: GCC spills two)
     fused2    the product with a 2 x 16 block (fits the 16 registers; half a row's MACs)
     proj2     that half row alone, in 2 x 16 blocks
   If the projection hid behind the product, fused would take about matvec. (It does not:
   fused takes at least matvec + proj. Pointing matvec at 4 of its 16 panels, 256 KB that
   stay in L2, takes it from about 13 to about 11 us: the product is bound by the rate at
   which data reaches L1, which the projection's operands share.)
   Build and run:  gcc -O2 -mavx2 -mfma -ffp-contract=fast benchmarks/w6_overlap_probe.c \
                     -o /tmp/probe && /tmp/probe
   It checks that the fused results equal the separate ones. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { H = 256, D = 256, G = 4 * H, T = 2000, WIDE = 64, PANELS = G / WIDE, AHEAD = 256 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define PREFETCH_ROW(bk)                                                   \
    do {                                                                   \
        for (int l = 0; l < 4; ++l)                                        \
            _mm_prefetch((const char *)((bk) + AHEAD + 16 * l), _MM_HINT_T0); \
    } while (0)
#define MATVEC_K(h, bk)                                                    \
    c0 = _mm256_fmadd_ps(h, _mm256_loadu_ps(bk), c0);                      \
    c1 = _mm256_fmadd_ps(h, _mm256_loadu_ps(bk + 8), c1);                  \
    c2 = _mm256_fmadd_ps(h, _mm256_loadu_ps(bk + 16), c2);                 \
    c3 = _mm256_fmadd_ps(h, _mm256_loadu_ps(bk + 24), c3);                 \
    c4 = _mm256_fmadd_ps(h, _mm256_loadu_ps(bk + 32), c4);                 \
    c5 = _mm256_fmadd_ps(h, _mm256_loadu_ps(bk + 40), c5);                 \
    c6 = _mm256_fmadd_ps(h, _mm256_loadu_ps(bk + 48), c6);                 \
    c7 = _mm256_fmadd_ps(h, _mm256_loadu_ps(bk + 56), c7)
/* named stores: an array of the sums (even after the loop) made GCC keep them on the stack */
#define MATVEC_STORE(out)                                                  \
    _mm256_storeu_ps(out, c0), _mm256_storeu_ps(out + 8, c1);              \
    _mm256_storeu_ps(out + 16, c2), _mm256_storeu_ps(out + 24, c3);        \
    _mm256_storeu_ps(out + 32, c4), _mm256_storeu_ps(out + 40, c5);        \
    _mm256_storeu_ps(out + 48, c6), _mm256_storeu_ps(out + 56, c7)
#define ROW_STORE(out, r, a, b) \
    _mm256_storeu_ps(out + (r) * G, a), _mm256_storeu_ps(out + (r) * G + 8, b)

#define PROJ2_K(k)                                                                   \
    __m256 b0 = _mm256_loadu_ps(slab + 16 * (k)), b1 = _mm256_loadu_ps(slab + 16 * (k) + 8); \
    __m256 a = _mm256_broadcast_ss(x + (k));                                         \
    p0 = _mm256_fmadd_ps(a, b0, p0), p1 = _mm256_fmadd_ps(a, b1, p1);                \
    a = _mm256_broadcast_ss(x + D + (k));                                            \
    p2 = _mm256_fmadd_ps(a, b0, p2), p3 = _mm256_fmadd_ps(a, b1, p3)
#define PROJ4_K(k)                                                                   \
    PROJ2_K(k);                                                                      \
    a = _mm256_broadcast_ss(x + 2 * D + (k));                                        \
    p4 = _mm256_fmadd_ps(a, b0, p4), p5 = _mm256_fmadd_ps(a, b1, p5);                \
    a = _mm256_broadcast_ss(x + 3 * D + (k));                                        \
    p6 = _mm256_fmadd_ps(a, b0, p6), p7 = _mm256_fmadd_ps(a, b1, p7)

/* out[0:64] = h @ panel (H x 64) */
__attribute__((noinline)) static void matvec(const float *h, const float *panel, float *out) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    const float *bk = panel;
    for (int k = 0; k < H; ++k, bk += WIDE) {
        PREFETCH_ROW(bk);
        __m256 x = _mm256_broadcast_ss(h + k);
        MATVEC_K(x, bk);
    }
    MATVEC_STORE(out);
}

/* out (rows x 16, G apart) = x (rows x D, D apart) @ slab (D x 16), rows 2 or 4 */
__attribute__((noinline)) static void proj(int rows, const float *x, const float *slab, float *out) {
    if (rows == 4) {
        __m256 p0 = _mm256_setzero_ps(), p1 = p0, p2 = p0, p3 = p0, p4 = p0, p5 = p0, p6 = p0, p7 = p0;
        for (int k = 0; k < D; ++k) {
            PROJ4_K(k);
        }
        ROW_STORE(out, 0, p0, p1), ROW_STORE(out, 1, p2, p3);
        ROW_STORE(out, 2, p4, p5), ROW_STORE(out, 3, p6, p7);
    } else {
        __m256 p0 = _mm256_setzero_ps(), p1 = p0, p2 = p0, p3 = p0;
        for (int k = 0; k < D; ++k) {
            PROJ2_K(k);
        }
        ROW_STORE(out, 0, p0, p1), ROW_STORE(out, 1, p2, p3);
    }
}

/* matvec and proj(rows) in one k loop */
__attribute__((noinline)) static void fused(int rows, const float *h, const float *panel,
                                            float *out, const float *x, const float *slab,
                                            float *pout) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m256 p0 = c0, p1 = c0, p2 = c0, p3 = c0, p4 = c0, p5 = c0, p6 = c0, p7 = c0;
    const float *bk = panel;
    if (rows == 4) {
        for (int k = 0; k < H; ++k, bk += WIDE) {
            PREFETCH_ROW(bk);
            __m256 hk = _mm256_broadcast_ss(h + k);
            MATVEC_K(hk, bk);
            PROJ4_K(k);
        }
    } else {
        for (int k = 0; k < H; ++k, bk += WIDE) {
            PREFETCH_ROW(bk);
            __m256 hk = _mm256_broadcast_ss(h + k);
            MATVEC_K(hk, bk);
            PROJ2_K(k);
        }
    }
    MATVEC_STORE(out);
    ROW_STORE(pout, 0, p0, p1), ROW_STORE(pout, 1, p2, p3);
    if (rows == 4) ROW_STORE(pout, 2, p4, p5), ROW_STORE(pout, 3, p6, p7);
}

/* One step's slabs: step t's 16 blocks of `rows` x 16 columns, covering the projection of
   rows [r, r + rows) a quarter (rows 4) or a half (rows 2) of the columns at a time. */
static void block_of(int t, int rows, int panel, int *row, int *slab) {
    int per_row_group = G / 16 / PANELS;                 /* steps to cover 1024 columns: 4 */
    *row = (t / per_row_group * rows) % (T - rows);
    *slab = (t % per_row_group) * PANELS + panel;
}

int main(void) {
    float *U = aligned_alloc(64, sizeof(float) * H * G), *W = aligned_alloc(64, sizeof(float) * D * G);
    float *X = aligned_alloc(64, sizeof(float) * T * D), *h = aligned_alloc(64, sizeof(float) * H);
    float *out = aligned_alloc(64, sizeof(float) * G), *out2 = aligned_alloc(64, sizeof(float) * G);
    float *P1 = aligned_alloc(64, sizeof(float) * T * G), *P2 = aligned_alloc(64, sizeof(float) * T * G);
    srand(1);
    for (int i = 0; i < H * G; ++i) U[i] = (rand() % 200 - 100) * 1e-4f, W[i] = (rand() % 200 - 100) * 1e-4f;
    for (int i = 0; i < T * D; ++i) X[i] = (rand() % 200 - 100) * 1e-2f;
    for (int i = 0; i < H; ++i) h[i] = 0.01f * (i % 17);
    for (int round = 0; round < 7; ++round) {
        double times[5];
        for (int variant = 0; variant < 5; ++variant) {
            int rows = variant == 1 || variant == 2 ? 4 : 2;
            double start = now();
            for (int t = 0; t < T; ++t)
                for (int p = 0; p < PANELS; ++p) {
                    int r, s;
                    block_of(t, rows, p, &r, &s);
                    const float *x = X + (size_t)r * D, *slab = W + (size_t)s * D * 16;
                    float *dst = (variant == 2 || variant == 3 ? P2 : P1) + (size_t)r * G + 16 * s;
                    if (variant == 0) matvec(h, U + (size_t)p * H * WIDE, out + WIDE * p);
                    else if (variant == 1 || variant == 4) proj(rows, x, slab, dst);
                    else fused(rows, h, U + (size_t)p * H * WIDE, out2 + WIDE * p, x, slab, dst);
                }
            times[variant] = (now() - start) / T * 1e6;
            if (variant == 2 && memcmp(P1, P2, sizeof(float) * T * G)) return fprintf(stderr, "fused 4 differs\n"), 1;
            if (variant == 3 && memcmp(P1, P2, sizeof(float) * T * G)) return fprintf(stderr, "fused 2 differs\n"), 1;
            if ((variant == 2 || variant == 3) && memcmp(out, out2, sizeof(float) * G))
                return fprintf(stderr, "product differs\n"), 1;
        }
        printf("us a step: matvec %5.2f  proj %5.2f  fused %5.2f (matvec+proj %5.2f)  "
               "fused2 %5.2f  proj2 %5.2f (matvec+proj2 %5.2f)\n", times[0], times[1], times[2],
               times[0] + times[1], times[3], times[4], times[0] + times[4]);
    }
    return 0;
}
