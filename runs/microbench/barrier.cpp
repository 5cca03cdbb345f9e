// Two threads meeting 10^6 times: OpenMP's barrier and a spinning one like
// brian_stdp::barrier (brian_stdp/backends/threads.py). Nanoseconds per meeting.
// g++ -O2 -fopenmp runs/microbench/barrier.cpp -o /tmp/barrier && /tmp/barrier
#include <omp.h>
#include <atomic>
#include <chrono>
#include <cstdio>
struct SpinBarrier {
  alignas(64) std::atomic<int> count{0};
  alignas(64) std::atomic<int> sense{0};
  int n;
  void wait(int &local) {
    local = 1 - local;
    if (count.fetch_add(1, std::memory_order_acq_rel) == n - 1) { count.store(0, std::memory_order_relaxed); sense.store(local, std::memory_order_release); }
    else { while (sense.load(std::memory_order_acquire) != local) { __builtin_ia32_pause(); } }
  }
};
int main() {
  const int N = 1000000;
  auto t0 = std::chrono::steady_clock::now();
  #pragma omp parallel num_threads(2)
  { for (int i = 0; i < N; i++) {
#pragma omp barrier
  } }
  auto t1 = std::chrono::steady_clock::now();
  SpinBarrier b; b.n = 2;
  #pragma omp parallel num_threads(2)
  { int local = 0; for (int i = 0; i < N; i++) b.wait(local); }
  auto t2 = std::chrono::steady_clock::now();
  printf("omp barrier %.0f ns, spin barrier %.0f ns\n", std::chrono::duration<double,std::nano>(t1-t0).count()/N, std::chrono::duration<double,std::nano>(t2-t1).count()/N);
}
