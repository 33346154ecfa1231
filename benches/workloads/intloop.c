/* Benchmark workload: a tight integer loop (adds, xors, shifts, multiplies,
 * a data-dependent branch) with no memory traffic.
 * Usage: intloop [millions of iterations]   (default 500). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    uint64_t iterations = (uint64_t)(argc > 1 ? atol(argv[1]) : 500) * 1000000;
    uint64_t x = 88172645463325252ull, sum = 0, odd = 0;
    for (uint64_t i = 0; i < iterations; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum += (x * 0x9E3779B97F4A7C15ull) >> 40;
        if (x & 1)
            odd++;
    }
    printf("x=%016llx sum=%llu odd=%llu\n", (unsigned long long)x, (unsigned long long)sum,
           (unsigned long long)odd);
    return 0;
}
