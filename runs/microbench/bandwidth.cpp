// Memory bandwidth on 1 and 2 threads: a sum over 128 MB, and a scaling in place
// (read + write). Best of 5.
// g++ -O2 -fopenmp runs/microbench/bandwidth.cpp -o /tmp/bandwidth && /tmp/bandwidth
#include <omp.h>
#include <chrono>
#include <cstdio>
#include <vector>
int main() {
  const size_t n = 1 << 24;  // 16M doubles = 128 MB
  std::vector<double> a(n, 1.0);
  for (int threads = 1; threads <= 2; threads++) {
    double best = 1e9, sum = 0;
    for (int rep = 0; rep < 5; rep++) {
      auto t0 = std::chrono::steady_clock::now();
      #pragma omp parallel for num_threads(threads) reduction(+:sum) schedule(static)
      for (size_t i = 0; i < n; i++) sum += a[i];
      auto t1 = std::chrono::steady_clock::now();
      double s = std::chrono::duration<double>(t1 - t0).count(); if (s < best) best = s;
    }
    double best2 = 1e9;
    for (int rep = 0; rep < 5; rep++) {
      auto t0 = std::chrono::steady_clock::now();
      #pragma omp parallel for num_threads(threads) schedule(static)
      for (size_t i = 0; i < n; i++) a[i] = a[i] * 1.0000001;
      auto t1 = std::chrono::steady_clock::now();
      double s = std::chrono::duration<double>(t1 - t0).count(); if (s < best2) best2 = s;
    }
    printf("%d threads: read %.1f GB/s, read+write %.1f GB/s (%g)\n", threads, n * 8 / best / 1e9, n * 16 / best2 / 1e9, sum);
  }
}
