// Spawning lives in C because the code between fork() and execve() may only make async-signal-safe calls: the
// parent is multi-threaded, so the child must not touch the Swift runtime, malloc, or any lock.
#define _GNU_SOURCE 1

#include "CPersonaShim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Without close_range (Linux < 5.9) the child closes descriptors one by one; a huge RLIMIT_NOFILE would make that
// take seconds, so the loop stops here.
#define PS_FALLBACK_CLOSE_LIMIT 65536

static void close_fds(unsigned int low, unsigned int high, long fallback_max) {
    if (low > high) {
        return;
    }
#ifdef SYS_close_range
    if (syscall(SYS_close_range, low, high, 0) == 0) {
        return;
    }
#endif
    long last = fallback_max < PS_FALLBACK_CLOSE_LIMIT ? fallback_max : PS_FALLBACK_CLOSE_LIMIT;
    for (long fd = (long)low; fd <= (long)high && fd < last; fd++) {
        (void)close((int)fd);
    }
}

// dup2 onto 0..2 would clobber a source that itself sits in 0..2 (e.g. when the parent had closed its own stdin),
// so every descriptor the child still needs is first moved above them.
static int move_above_stdio(int fd) {
    if (fd < 0 || fd > 2) {
        return fd;
    }
    return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

#if defined(SYS_rt_sigaction) && (defined(__x86_64__) || defined(__aarch64__))
// The kernel's struct sigaction on these architectures (not glibc's, whose mask is 128 bytes).
struct ps_kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};
#endif

static void reset_disposition(int sig) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    if (sigaction(sig, &dfl, NULL) == 0) {
        return;
    }
#if defined(SYS_rt_sigaction) && (defined(__x86_64__) || defined(__aarch64__))
    // glibc refuses its internal signals (32 and 33), yet the Swift parent can have one ignored, and SIG_IGN
    // survives execve: programs using pthread_cancel would then misbehave.
    struct ps_kernel_sigaction kernel_dfl = {SIG_DFL, 0, NULL, 0};
    (void)syscall(SYS_rt_sigaction, sig, &kernel_dfl, NULL, sizeof kernel_dfl.mask);
#endif
}

__attribute__((noreturn)) static void child_fail(int report_fd, int err) {
    // A 4-byte write to a pipe is atomic, so the parent sees all of it or EOF.
    (void)write(report_fd, &err, sizeof err);
    _exit(127);
}

__attribute__((noreturn)) static void child_run(const char *path, char *const argv[], char *const envp[],
                                                const char *cwd, int in_fd, int out_fd, int err_fd, int report_fd,
                                                long open_max) {
    // Own process group, so the parent can signal the child together with everything it starts.
    (void)setpgid(0, 0);

    // Handlers would run parent code in the child, and ignored signals (SIGPIPE!) survive execve. Signals stay
    // blocked (the parent blocked them all before fork) until every disposition is back to default.
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            reset_disposition(sig);
        }
    }
    sigset_t empty;
    sigemptyset(&empty);
    (void)sigprocmask(SIG_SETMASK, &empty, NULL);

    report_fd = move_above_stdio(report_fd);
    if (report_fd < 0) {
        _exit(127); // nothing to report through; the parent sees EOF and later this exit status
    }
    in_fd = move_above_stdio(in_fd);
    out_fd = move_above_stdio(out_fd);
    err_fd = move_above_stdio(err_fd);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) {
        child_fail(report_fd, errno);
    }
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
        child_fail(report_fd, errno);
    }

    // Everything else goes, including descriptors other threads opened without O_CLOEXEC. The report pipe stays
    // open until execve closes it (it is O_CLOEXEC).
    close_fds(3, (unsigned int)report_fd - 1, open_max);
    close_fds((unsigned int)report_fd + 1, ~0U, open_max);

    if (cwd != NULL && chdir(cwd) != 0) {
        child_fail(report_fd, errno);
    }
    execve(path, argv, envp);
    child_fail(report_fd, errno);
}

static void reap(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

int ps_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd_or_null, int stdin_fd,
             int stdout_fd, int stderr_fd, pid_t *out_pid) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        return errno;
    }
    // sysconf is not async-signal-safe, so the child's fallback bound is computed here.
    long open_max = sysconf(_SC_OPEN_MAX);
    if (open_max < 0) {
        open_max = 1024;
    }

    // Blocking everything keeps the parent's handlers (which write to the parent's signal pipe) from running in the
    // child before it has reset them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        child_run(path, argv, envp, cwd_or_null, stdin_fd, stdout_fd, stderr_fd, report[1], open_max);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        return fork_errno;
    }
    // Also done by the child; doing it here too means the group exists whichever runs first. Fails harmlessly with
    // EACCES once the child has exec'd.
    (void)setpgid(pid, pid);

    // EOF means execve succeeded (it closed the O_CLOEXEC write end); 4 bytes are the child's errno.
    int child_errno = 0;
    ssize_t got;
    do {
        got = read(report[0], &child_errno, sizeof child_errno);
    } while (got < 0 && errno == EINTR);
    int read_errno = errno;
    close(report[0]);

    if (got == (ssize_t)sizeof child_errno) {
        reap(pid);
        return child_errno != 0 ? child_errno : EIO;
    }
    if (got != 0) {
        // Cannot tell whether the exec happened, and a child the caller does not know about would leak.
        (void)kill(pid, SIGKILL);
        reap(pid);
        return got < 0 ? read_errno : EIO;
    }
    *out_pid = pid;
    return 0;
}

int ps_pipe2(int *fds, int flags) { return pipe2(fds, flags); }

int ps_wifexited(int status) { return WIFEXITED(status); }
int ps_wexitstatus(int status) { return WEXITSTATUS(status); }
int ps_wifsignaled(int status) { return WIFSIGNALED(status); }
int ps_wtermsig(int status) { return WTERMSIG(status); }

const char *ps_signal_abbrev(int signo) { return sigabbrev_np(signo); }
const char *ps_errno_name(int errnum) { return strerrorname_np(errnum); }

const void *ps_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}

int ps_set_pipe_size(int fd, int size) {
    return fcntl(fd, F_SETPIPE_SZ, size);
}
