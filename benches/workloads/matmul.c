/* Benchmark workload: double-precision matrix multiply C = A * B (i-k-j
 * order, so the inner loop vectorises when the compiler is allowed to).
 * Built twice: matmul_scalar (-O2 -fno-tree-vectorize) and matmul_vector
 * (-O3); both with -ffp-contract=off so that no fused multiply-add changes the
 * rounding and aarch64 and x86_64 print the same result.
 * Usage: matmul [n] [repeats]   (default 300 4). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 300;
    int repeats = argc > 2 ? atoi(argv[2]) : 4;
    double *a = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n * n);
    double *c = malloc(sizeof(double) * n * n);
    for (int i = 0; i < n * n; i++) {
        a[i] = (double)(i % 17) * 0.25 - 1.5;
        b[i] = (double)(i % 13) * 0.125 + 0.5;
    }
    double checksum = 0.0;
    for (int r = 0; r < repeats; r++) {
        for (int i = 0; i < n * n; i++)
            c[i] = 0.0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) {
                double aik = a[i * n + k];
                for (int j = 0; j < n; j++)
                    c[i * n + j] += aik * b[k * n + j];
            }
        for (int i = 0; i < n * n; i += 7)
            checksum += c[i];
        a[r] += 1.0; /* each repeat multiplies a different matrix */
    }
    printf("n=%d repeats=%d checksum=%.17g c[last]=%.17g\n", n, repeats, checksum, c[n * n - 1]);
    free(a);
    free(b);
    free(c);
    return 0;
}
