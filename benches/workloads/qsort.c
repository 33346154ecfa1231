/* Benchmark workload: glibc qsort of pseudo-random ints.
 * Usage: qsort [count]   (default 3000000). Prints a checksum of the result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? (size_t)atol(argv[1]) : 3000000;
    int *values = malloc(count * sizeof *values);
    uint64_t x = 0xA4093822299F31D0ull;
    for (size_t i = 0; i < count; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        values[i] = (int)(x >> 32);
    }
    qsort(values, count, sizeof *values, compare_ints);
    uint64_t hash = 1469598103934665603ull;
    size_t out_of_order = 0;
    for (size_t i = 0; i < count; i++) {
        hash = (hash ^ (uint32_t)values[i]) * 1099511628211ull;
        out_of_order += i > 0 && values[i - 1] > values[i];
    }
    printf("sorted %zu ints, out of order %zu, checksum %016llx\n", count, out_of_order,
           (unsigned long long)hash);
    free(values);
    return 0;
}
