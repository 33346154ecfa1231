/* Benchmark workload: naive recursive Fibonacci (calls and returns).
 * Usage: fib [n]   (default 35). */
#include <stdio.h>
#include <stdlib.h>

static __attribute__((noinline)) long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 35;
    printf("fib(%ld) = %ld\n", n, fib(n));
    return 0;
}
