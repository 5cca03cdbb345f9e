// What two threads pay where their blocks of one array meet: a measurement, not part of
// the package (runs/NOTES.md, "The cost per split call: prefetching across the blocks").
//
// Eight arrays of N neurons (seven of doubles, one of chars, as Brian2 keeps a group's
// variables), updated as the excitatory state update of Diehl & Cook's model updates
// them, STEPS times with a barrier after each pass; each thread updates its block
// [N*t/T, N*(t+1)/T) and adds the TSC cycles (rdtsc) of its passes. Prints the cycles
// per pass of each thread.
//
//   g++ -O3 -march=native -ffast-math -fno-finite-math-only -fopenmp \
//       runs/microbench/prefetch_boundary.cpp -o /tmp/prefetch_boundary
//   /tmp/prefetch_boundary THREADS N STEPS [GUARD [DESCEND]]
//
// GUARD: bytes left unused before and after each array (0: arrays allocated one after
// the other, each on a cache line). DESCEND: 1, the first thread runs through its block
// from the top down; 2, in runs of 64 neurons taken from the top down, each run upwards
// (a loop a compiler can vectorise); 0 (default), upwards. One thread alone gives the
// cost of the whole work.
#include <omp.h>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdlib.h>

static std::atomic<int> arrived{0}, phase{0};

static void barrier(int threads)
{
    const int p = phase.load();
    if (arrived.fetch_add(1) == threads - 1)
    {
        arrived.store(0);
        phase.store(p + 1);
        return;
    }
    while (phase.load() == p)
        __builtin_ia32_pause();
}

static char* allocate(size_t bytes, size_t guard)
{
    void *p = 0;
    if (posix_memalign(&p, 64, bytes + 2 * guard))
        std::abort();
    char *a = (char*)p + guard;
    for (size_t k = 0; k < bytes; k++)
        a[k] = 0;
    return a;
}

int main(int argc, char **argv)
{
    if (argc < 4)
    {
        std::fprintf(stderr, "usage: %s THREADS N STEPS [GUARD [DESCEND]]\n", argv[0]);
        return 2;
    }
    const int threads = std::atoi(argv[1]);
    const size_t n = std::atol(argv[2]);
    const long steps = std::atol(argv[3]);
    const size_t guard = argc > 4 ? std::atol(argv[4]) : 0;
    const int descend = argc > 5 ? std::atoi(argv[5]) : 0;
    double *x[7];
    for (int a = 0; a < 7; a++)
    {
        x[a] = (double*)allocate(n * sizeof(double), guard);
        for (size_t i = 0; i < n; i++)
            x[a][i] = 0.001 * (i % 7);
    }
    double *ge = x[0], *gi = x[1], *lastspike = x[2], *post1 = x[3], *post2 = x[4],
           *theta = x[5], *v = x[6];
    char *not_refractory = allocate(n, guard);
    unsigned long long cycles[256] = {0};
    #pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
        const size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        const bool down = descend && t == 0 && threads > 1;
        for (long s = 0; s < steps; s++)
        {
            const unsigned long long c0 = __builtin_ia32_rdtsc();
#define UPDATE(i)                                                                        \
            {                                                                            \
                const double g = ge[i], h = gi[i];                                       \
                const char ready = (s * 0.0005 - lastspike[i]) >= 0.005;                 \
                const double nv = ready                                                  \
                    ? (0.0005 * (-0.65 - h) + v[i]) / (1.0 + 0.0005 * (10 + g + h)) : v[i]; \
                ge[i] = g * 0.6;                                                         \
                gi[i] = h * 0.7;                                                         \
                post1[i] *= 0.97;                                                        \
                post2[i] *= 0.98;                                                        \
                theta[i] *= 0.99999;                                                     \
                v[i] = nv;                                                               \
                not_refractory[i] = ready;                                               \
            }
            if (down && descend == 2)  // runs of 64 from the top down, each upwards
            {
                size_t top = hi;
                for (; top >= lo + 64; top -= 64)
                    for (size_t i = top - 64; i < top; i++)
                        UPDATE(i)
                for (size_t i = lo; i < top; i++)
                    UPDATE(i)
            }
            else
                for (size_t k = lo; k < hi; k++)
                {
                    const size_t i = down ? lo + hi - 1 - k : k;
                    UPDATE(i)
                }
            cycles[t] += __builtin_ia32_rdtsc() - c0;
            if (threads > 1)
                barrier(threads);
        }
    }
    for (int t = 0; t < threads; t++)
        std::printf("threads %d, %zu neurons, guard %zu, descend %d: thread %d %.0f cycles per pass\n",
                    threads, n, guard, descend, t, cycles[t] / (double)steps);
    return 0;
}
