/* A static C program built with musl (musl-gcc -static): it runs on
 * Pyrite unmodified, through the Linux system calls Pyrite implements.
 * Prints, allocates with malloc (small blocks on brk, a large one on mmap),
 * and exits with status 42, so a test can tell its end from a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    printf("Hello from C on Pyrite! argc=%d", argc);
    for (int i = 1; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");

    enum { SMALL = 1000, LARGE = 1 << 20 };
    long *numbers[SMALL];
    long sum = 0;
    for (int i = 0; i < SMALL; i++) {
        numbers[i] = malloc(sizeof(long) * 4);
        if (!numbers[i]) {
            printf("malloc failed\n");
            return 1;
        }
        numbers[i][0] = i;
    }
    for (int i = 0; i < SMALL; i++) {
        sum += numbers[i][0];
        free(numbers[i]);
    }
    char *large = malloc(LARGE);
    if (!large) {
        printf("large malloc failed\n");
        return 1;
    }
    memset(large, 'x', LARGE);
    int xs = 0;
    for (int i = 0; i < LARGE; i += 4096)
        xs += large[i] == 'x';
    free(large);
    printf("malloc: sum %ld (expect %d), %d pages of a 1 MiB block\n",
           sum, SMALL * (SMALL - 1) / 2, xs);
    return sum == SMALL * (SMALL - 1) / 2 && xs == LARGE / 4096 ? 42 : 1;
}
