/* Compiled by tcc inside an arm64 image build (tests/containers/debian/Dockerfile). */
#include <stdio.h>
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        return 1;
    printf("compiled in the build, running on %s: %d\n", u.machine, 6 * 7);
    return 0;
}
