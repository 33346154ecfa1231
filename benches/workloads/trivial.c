/* Benchmark workload: does nothing. The harness starts it many times in a row
 * to measure process start-up (loading, libc initialisation, first blocks). */
int main(void) { return 0; }
