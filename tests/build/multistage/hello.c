#include <stdio.h>
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;
    uname(&u);
    printf("compiled in the build, running on %s\n", u.machine);
    return 0;
}
