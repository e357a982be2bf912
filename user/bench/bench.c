/*
 * The OS benchmark: what a kernel costs a program, measured from user mode
 * the same way on every kernel it runs on (Linux now; Pyrite once it runs
 * static programs).
 *
 * Each figure is the per-operation time of one round (many operations
 * timed together with CLOCK_MONOTONIC), and the printed value is the
 * median of several rounds. One line per figure, in the form of the bench
 * kernel's lines (tools/linux_peer.py parses them):
 *
 *   BENCH os_null_syscall 123.4 ns/call
 *
 * then `BENCH-DONE`. A figure the kernel cannot give (a system call it
 * lacks) is `BENCH-SKIP <name> <reason>` instead. The first line,
 * `bench: start uptime_ms=...`, marks the moment the kernel handed over to
 * the program (the host times it).
 *
 * As /init (pid 1) it mounts /proc, reads `bench.quick=1` from
 * /proc/cmdline (few iterations: the smoke test) and powers the machine
 * off at the end. Run by hand (`bench [quick|full] [path of true]`) it
 * just exits.
 *
 * Plain C99 and POSIX, static: musl or glibc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Iterations per round and rounds, full and quick. */
struct sizes {
    int rounds;
    long syscalls;
    long switches;
    long yields;
    long pages;
    long spawns;
    long sleeps;
};

static const struct sizes FULL = {7, 200000, 20000, 20000, 4096, 100, 200};
static const struct sizes QUICK = {3, 2000, 200, 200, 64, 3, 5};

#define MAX_ROUNDS 16
/* The program process start runs; argv[2] names another. */
static const char *true_path = "/true";

/* Linux's futex operations (linux/futex.h, which musl's headers lack). */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *name, double *per_round, int rounds, const char *unit)
{
    printf("BENCH %s %.1f %s\n", name, median(per_round, rounds), unit);
    fflush(stdout);
}

static void fail(const char *what)
{
    printf("BENCH-FAILED %s: %s\n", what, strerror(errno));
    fflush(stdout);
}

/* A figure this kernel cannot give (a system call it lacks): said, not
 * guessed, and the other figures still measured. */
static void skip(const char *name)
{
    printf("BENCH-SKIP %s %s\n", name, strerror(errno));
    fflush(stdout);
}

/* 1. The cheapest system call; syscall() so no libc can answer from a cache. */
static double null_syscall(long n)
{
    double start = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getpid);
    return (now_ns() - start) / (double)n;
}

/*
 * 2a. Thread switch: two threads hand a token back and forth through a
 * futex, the lightest way Linux offers to block one thread and wake
 * another (a pipe would add the file layer's copy to every switch). On one
 * CPU each hand-over is one switch.
 */
static atomic_int token;
static long handovers;

static void futex_wait(atomic_int *word, int value)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake(atomic_int *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Plays `me` (0 or 1): waits until the token is its own, passes it on. */
static void play(int me)
{
    for (long i = 0; i < handovers; i++) {
        int seen;
        while ((seen = atomic_load(&token)) != me)
            futex_wait(&token, seen);
        atomic_store(&token, !me);
        futex_wake(&token);
    }
}

static void *second_player(void *unused)
{
    (void)unused;
    play(1);
    return NULL;
}

static double thread_switch(long n)
{
    pthread_t other;
    atomic_store(&token, 0);
    handovers = n;
    double start = now_ns();
    int err = pthread_create(&other, NULL, second_player, NULL);
    if (err) {
        errno = err;
        return -1;
    }
    play(0);
    pthread_join(other, NULL);
    return (now_ns() - start) / (double)(2 * n);
}

/* 2b. sched_yield with two threads ready: on one CPU each yield switches. */
static long yields;

static void *yielder(void *unused)
{
    (void)unused;
    for (long i = 0; i < yields; i++)
        sched_yield();
    return NULL;
}

static double yield_switch(long n)
{
    pthread_t other;
    yields = n;
    double start = now_ns();
    int err = pthread_create(&other, NULL, yielder, NULL);
    if (err) {
        errno = err;
        return -1;
    }
    yielder(NULL);
    pthread_join(other, NULL);
    return (now_ns() - start) / (double)(2 * n);
}

/* 3. Page fault: the first touch of each page of a fresh anonymous mapping. */
static double page_fault(long pages)
{
    long size = sysconf(_SC_PAGESIZE);
    volatile char *area = mmap(NULL, (size_t)(pages * size), PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        return -1;
    double start = now_ns();
    for (long i = 0; i < pages; i++)
        area[i * size] = 1;
    double per_page = (now_ns() - start) / (double)pages;
    munmap((void *)area, (size_t)(pages * size));
    return per_page;
}

/*
 * 4. Process start: a tiny static program started, run to exit and waited.
 * "Spawn" is the system's own way: Pyrite's spawn system call where the
 * kernel has it (number 1024, outside Linux's range, where Linux answers
 * ENOSYS), else posix_spawn (on Linux a vfork-style clone and execve).
 */
#define PYRITE_SPAWN 1024

static pid_t start_true(int use_fork, char **argv)
{
    pid_t pid;
    if (use_fork) {
        pid = fork();
        if (pid == 0) {
            execve(true_path, argv, environ);
            _exit(127);
        }
        return pid;
    }
    pid = (pid_t)syscall(PYRITE_SPAWN, true_path, argv, environ);
    if (pid >= 0 || errno != ENOSYS)
        return pid;
    int err = posix_spawn(&pid, true_path, NULL, NULL, argv, environ);
    errno = err;
    return err ? -1 : pid;
}

static double spawn_wait(long n, int use_fork)
{
    char *argv[] = {(char *)true_path, NULL};
    double start = now_ns();
    for (long i = 0; i < n; i++) {
        int status;
        pid_t pid = start_true(use_fork, argv);
        if (pid < 0)
            return -1;
        if (waitpid(pid, &status, 0) != pid)
            return -1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            errno = ECHILD;
            return -1;
        }
    }
    return (now_ns() - start) / (double)n;
}

/* 5. nanosleep(1 ms): how much longer than asked each sleep took (us);
 * -1 if a sleep failed. */
static int oversleep(long n, double *median_us, double *max_us)
{
    double late[1024];
    struct timespec ms = {0, 1000000};
    if (n > 1024)
        n = 1024;
    for (long i = 0; i < n; i++) {
        double start = now_ns();
        if (nanosleep(&ms, NULL) != 0)
            return -1;
        late[i] = (now_ns() - start - 1e6) / 1e3;
    }
    double worst = late[0];
    for (long i = 1; i < n; i++)
        worst = late[i] > worst ? late[i] : worst;
    *max_us = worst;
    *median_us = median(late, (int)n);
    return 0;
}

/* Runs `expr` once per round and reports the median; a negative value
 * (errno says why) skips the figure. */
#define ROUNDS(name, unit, expr)                                     \
    do {                                                             \
        double v[MAX_ROUNDS];                                        \
        int r = 0;                                                   \
        for (; r < s->rounds; r++) {                                 \
            v[r] = (expr);                                           \
            if (v[r] < 0)                                            \
                break;                                               \
        }                                                            \
        if (r == s->rounds)                                          \
            report(name, v, s->rounds, unit);                        \
        else                                                         \
            skip(name);                                              \
    } while (0)

static void run_all(const struct sizes *s)
{
    ROUNDS("os_null_syscall", "ns/call", null_syscall(s->syscalls));
    ROUNDS("os_thread_switch_futex", "ns/switch", thread_switch(s->switches));
    ROUNDS("os_sched_yield_switch", "ns/switch", yield_switch(s->yields));
    ROUNDS("os_page_fault", "ns/page", page_fault(s->pages));
    ROUNDS("os_spawn_exit_wait", "us/process", spawn_wait(s->spawns, 0) / 1e3);
    ROUNDS("os_fork_exec_exit_wait", "us/process", spawn_wait(s->spawns, 1) / 1e3);
    double med[MAX_ROUNDS], max[MAX_ROUNDS];
    for (int r = 0; r < s->rounds; r++) {
        if (oversleep(s->sleeps, &med[r], &max[r]) != 0) {
            skip("os_nanosleep_1ms_oversleep_median");
            skip("os_nanosleep_1ms_oversleep_max");
            return;
        }
    }
    report("os_nanosleep_1ms_oversleep_median", med, s->rounds, "us");
    double worst = max[0];
    for (int r = 1; r < s->rounds; r++)
        worst = max[r] > worst ? max[r] : worst;
    printf("BENCH os_nanosleep_1ms_oversleep_max %.1f us\n", worst);
}

/* Whether `bench.quick=1` is on the kernel command line. */
static int quick_from_cmdline(void)
{
    char line[4096] = {0};
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, line, sizeof line - 1);
    close(fd);
    return got > 0 && strstr(line, "bench.quick=1") != NULL;
}

int main(int argc, char **argv)
{
    int as_init = getpid() == 1;
    struct timespec up;
    clock_gettime(CLOCK_BOOTTIME, &up);
    printf("bench: start uptime_ms=%.1f\n", (double)up.tv_sec * 1e3 + (double)up.tv_nsec / 1e6);
    fflush(stdout);
    if (as_init && mount("proc", "/proc", "proc", 0, NULL) != 0)
        fail("mount /proc");
    int quick = (argc > 1 && strcmp(argv[1], "quick") == 0) || quick_from_cmdline();
    if (argc > 2)
        true_path = argv[2];
    printf("bench: %s, %d rounds, median per figure\n", quick ? "quick" : "full",
           (quick ? QUICK : FULL).rounds);
    fflush(stdout);
    run_all(quick ? &QUICK : &FULL);
    printf("BENCH-DONE\n");
    fflush(stdout);
    if (as_init) {
        sync();
        reboot(RB_POWER_OFF);
    }
    return 0;
}
