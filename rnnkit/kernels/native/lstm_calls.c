/* LSTMSequence's forward and backward chunks as one C call each, run over slices of the
   batch on up to `threads` threads (torch.get_num_threads()).

   The rows of a batch are independent sequences: each slice runs the whole recurrence for
   its rows with no exchange between threads, and every thread reads the same packed
   recurrent kernel. A slice has at least MIN_ROWS rows (the packed product's blocks of four
   rows: every slice then reads the pack made for the whole batch, see rnnkit_panel_width),
   and a call too small to pay for waking threads runs on the calling thread alone. The
   weight gradients stay with torch's (MKL's) threaded products.

   The slices run on torch's own OpenMP team (GOMP_parallel from the libgomp torch loaded,
   registered by the loader with rnnkit_use_openmp): threads of our own would compete with
   OpenMP's workers, which spin on the other cores for a while after every torch op (an
   LSTM forward at W2's shape took 1.6x as long on two pthreads as on one thread). Without
   that OpenMP (another parallel backend), calls run on one thread.

   A batch of one row (a matrix-vector product a step) has nothing to slice: its forward is
   split by units instead (column_body), with the team meeting at a barrier every step. */
#define _POSIX_C_SOURCE 200809L   /* sched_yield */
#include <sched.h>
#include <stdint.h>
#include <string.h>

void rnnkit_pack_panels(int inner, int cols, const float *b, int64_t ld_b, int transpose,
                        int rows, float *packed);
void rnnkit_lstm_forward_rows(void *gemm, int steps, int batch, int stride, int units,
                              const float *recurrent, float *gates, float *hs, float *cs,
                              float *tanh_c, const uint8_t *mask, const float *packed);
void rnnkit_packed_product(int rows, int cols, int inner, const float *a, int64_t ld_a,
                           const float *packed, float *out, int64_t ld_out, int accumulate);
void rnnkit_lstm_units(int units, int first, int last, float *gates, const float *c,
                       float *c_next, float *tanh_c, float *h_next);
void rnnkit_lstm_backward_rows(void *gemm, int size, int batch, int stride, int units,
                               const float *recurrent, const float *gates, const float *cs,
                               const float *tanh_c, const float *d_out, int64_t out_step,
                               int64_t out_row, float *grads, float *dh, float *dc,
                               int last_product, const uint8_t *mask, float *scratch,
                               const float *packed_t);

#define MIN_ROWS 4
#define UNIT_BLOCK 64
#define MAX_SLICES 64
/* Multiply-adds of the recurrent products below which one thread runs the call: about
   0.1 ms of work on one core, against the tens of microseconds that starting and joining
   a thread costs. */
#define MIN_PARALLEL_WORK (4 << 20)

typedef void (*slice_fn)(const void *job, int first, int rows);
typedef void (*gomp_parallel_fn)(void (*body)(void *), void *data, unsigned threads,
                                 unsigned flags);
typedef int (*omp_int_fn)(void);

static gomp_parallel_fn gomp_parallel;
static omp_int_fn thread_number, team_size;

/* The loader passes libgomp's GOMP_parallel, omp_get_thread_num and omp_get_num_threads
   (NULL: every call runs on the calling thread). */
void rnnkit_use_openmp(void *parallel, void *number, void *size) {
    int all = parallel && number && size;
    gomp_parallel = all ? (gomp_parallel_fn)parallel : 0;
    thread_number = all ? (omp_int_fn)number : 0;
    team_size = all ? (omp_int_fn)size : 0;
}

/* A barrier for the members of one team, met once a step by the batch-1 loop: a counter and
   a phase, spun on, yielding the core after a while so that a busy machine still makes
   progress. At W6's shape it measured the same as libgomp's GOMP_barrier (31-34 ms for
   2000 steps on two threads, both); it is used so that a wait of a few microseconds a step
   never depends on libgomp's wait policy (OMP_WAIT_POLICY=passive makes a GOMP_barrier
   waiter sleep at once). */
struct spin_barrier {
    int arrived, phase;
};

static void meet(struct spin_barrier *barrier, int members) {
    int phase = __atomic_load_n(&barrier->phase, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&barrier->arrived, 1, __ATOMIC_ACQ_REL) == members) {
        __atomic_store_n(&barrier->arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&barrier->phase, phase + 1, __ATOMIC_RELEASE);
        return;
    }
    for (long spins = 0; __atomic_load_n(&barrier->phase, __ATOMIC_ACQUIRE) == phase; ++spins) {
        if (spins > (1 << 16)) sched_yield();
#if defined(__x86_64__) || defined(__i386__)
        else __builtin_ia32_pause();
#endif
    }
}

struct slices {
    slice_fn run;
    const void *job;
    int count, batch;
};

static void run_slice(const struct slices *all, int s) {
    int first = (int)((int64_t)s * all->batch / all->count);
    int last = (int)((int64_t)(s + 1) * all->batch / all->count);
    all->run(all->job, first, last - first);
}

/* The body of the parallel region: each member of the team takes every size-th slice (a
   team may have fewer threads than asked for). */
static void team_body(void *argument) {
    const struct slices *all = argument;
    for (int s = thread_number(); s < all->count; s += team_size()) run_slice(all, s);
}

static int64_t min_parallel_work = MIN_PARALLEL_WORK;

/* Set the work below which calls run on one thread (tests set 0 to slice small calls);
   returns the value it replaces. */
int64_t rnnkit_lstm_set_min_parallel_work(int64_t work) {
    int64_t previous = min_parallel_work;
    min_parallel_work = work;
    return previous;
}

/* How many slices a call of `batch` rows and `work` multiply-adds runs in on up to
   `threads` threads (exported for tests). */
int rnnkit_lstm_slice_count(int threads, int batch, int64_t work) {
    if (work < min_parallel_work || !gomp_parallel) return 1;
    int slices = threads < MAX_SLICES ? threads : MAX_SLICES;
    while (slices > 1 && batch / slices < MIN_ROWS) --slices;
    return slices < 1 ? 1 : slices;
}

/* How many threads split a batch-1 forward of `units` units (in blocks of UNIT_BLOCK: the
   64-column panels of the matrix-vector pack) and `work` multiply-adds (exported for
   tests). */
int rnnkit_lstm_column_count(int threads, int units, int64_t work) {
    if (work < min_parallel_work || !gomp_parallel || units % UNIT_BLOCK) return 1;
    int blocks = units / UNIT_BLOCK;
    int count = threads < blocks ? threads : blocks;
    count = count < MAX_SLICES ? count : MAX_SLICES;
    return count < 1 ? 1 : count;
}

struct column_job {
    int steps, units;
    float *gates, *hs, *cs, *tanh_c;
    const float *packed;
    struct spin_barrier barrier;
};

/* One member of the team: units [first, last) of every step. Each step multiplies h_{t-1}
   by the recurrent kernel's columns of those units in the four gate blocks (each a run of
   whole 64-column panels of the pack), applies their gates and writes their part of c_t
   and h_t; the barrier then lets every member read all of h_t. */
static void column_body(void *argument) {
    struct column_job *job = argument;
    const int units = job->units, g4 = 4 * units, blocks = units / UNIT_BLOCK;
    const int members = team_size(), member = thread_number();
    const int first = member * blocks / members * UNIT_BLOCK;
    const int last = (member + 1) * blocks / members * UNIT_BLOCK;
    for (int t = 0; t < job->steps; ++t) {
        float *gates = job->gates + (int64_t)t * g4;
        const float *h = job->hs + (int64_t)t * units;
        for (int k = 0; k < 4 && last > first; ++k) {
            int column = k * units + first;
            rnnkit_packed_product(1, last - first, units, h, units,
                                  job->packed + (int64_t)column * units, gates + column, g4, 1);
        }
        rnnkit_lstm_units(units, first, last, gates, job->cs + (int64_t)t * units,
                          job->cs + (int64_t)(t + 1) * units, job->tanh_c + (int64_t)t * units,
                          job->hs + (int64_t)(t + 1) * units);
        meet(&job->barrier, members);
    }
}

/* `run` over `slices` near-equal slices of the batch, one per member of an OpenMP team. */
static void run_slices(int slices, int batch, slice_fn run, const void *job) {
    struct slices all = {run, job, slices, batch};
    if (slices > 1) gomp_parallel(team_body, &all, (unsigned)slices, 0);
    else run_slice(&all, 0);
}

struct forward_job {
    int steps, batch, units;
    float *gates, *hs, *cs, *tanh_c;
    const uint8_t *mask;
    const float *packed;
};

static void forward_slice(const void *argument, int first, int rows) {
    const struct forward_job *job = argument;
    const int64_t h = (int64_t)first * job->units;
    rnnkit_lstm_forward_rows(0, job->steps, rows, job->batch, job->units, 0,
                             job->gates + 4 * h, job->hs + h, job->cs + h, job->tanh_c + h,
                             job->mask ? job->mask + first : 0, job->packed);
}

/* LSTMSequence's forward in one call: U (H x 4H) packed into `workspace`
   (rnnkit_packed_size(H, 4H, batch) floats), h_0 and c_0 copied into hs[0] and cs[0] (NULL:
   zeros), then the loop of rnn_loops.c on gates that already hold x @ kernel + b, over
   slices of the batch on up to `threads` threads. One C call instead of a pack, two state
   copies and the loop from Python: for short sequences those calls cost more than the
   steps. */
void rnnkit_lstm_forward_call(int steps, int batch, int units, const float *recurrent,
                              int transposed, float *workspace, const float *h0,
                              const float *c0, float *gates, float *hs, float *cs,
                              float *tanh_c, const uint8_t *mask, int threads) {
    const size_t count = sizeof(float) * batch * units;
    /* `transposed`: U is stored as its transpose (4H x H, contiguous), as rnnkit's LSTM
       keeps it (torch's layout) */
    rnnkit_pack_panels(units, 4 * units, recurrent, transposed ? units : 4 * units, transposed,
                       batch, workspace);
    if (h0) memcpy(hs, h0, count); else memset(hs, 0, count);
    if (c0) memcpy(cs, c0, count); else memset(cs, 0, count);
    int64_t work = (int64_t)steps * batch * units * 4 * units;
    int columns = batch == 1 && !mask ? rnnkit_lstm_column_count(threads, units, work) : 1;
    if (columns > 1) {
        struct column_job job = {steps, units, gates, hs, cs, tanh_c, workspace, {0, 0}};
        gomp_parallel(column_body, &job, (unsigned)columns, 0);
        return;
    }
    struct forward_job job = {steps, batch, units, gates, hs, cs, tanh_c, mask, workspace};
    run_slices(rnnkit_lstm_slice_count(threads, batch, work), batch, forward_slice, &job);
}

struct backward_job {
    int size, batch, units;
    const float *gates, *cs, *tanh_c, *d_out;
    int64_t out_step, out_row;
    float *grads, *dh, *dc;
    int last_product;
    const uint8_t *mask;
    float *scratch;
    const float *packed_t;
};

static void backward_slice(const void *argument, int first, int rows) {
    const struct backward_job *job = argument;
    const int64_t h = (int64_t)first * job->units;
    rnnkit_lstm_backward_rows(0, job->size, rows, job->batch, job->units, 0, job->gates + 4 * h,
                              job->cs + h, job->tanh_c + h,
                              job->d_out ? job->d_out + first * job->out_row : 0,
                              job->out_step, job->out_row, job->grads + 4 * h, job->dh + h,
                              job->dc + h, job->last_product,
                              job->mask ? job->mask + first : 0,
                              job->scratch ? job->scratch + h : 0, job->packed_t);
}

/* rnnkit_lstm_backward_chunk (rnn_loops.c) with U^T packed (`packed_t`, for `batch` rows),
   over slices of the batch on up to `threads` threads. */
void rnnkit_lstm_backward_call(int size, int batch, int units, const float *gates,
                               const float *cs, const float *tanh_c, const float *d_out,
                               int64_t out_step, int64_t out_row, float *grads, float *dh,
                               float *dc, int last_product, const uint8_t *mask,
                               float *scratch, const float *packed_t, int threads) {
    struct backward_job job = {size, batch, units, gates, cs, tanh_c, d_out, out_step,
                               out_row, grads, dh, dc, last_product, mask, scratch, packed_t};
    int64_t work = (int64_t)size * batch * units * 4 * units;
    run_slices(rnnkit_lstm_slice_count(threads, batch, work), batch, backward_slice, &job);
}
