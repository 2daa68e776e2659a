// The guardian: a process that outlives a shim killed with SIGKILL just long enough to stop the process groups the
// shim started. It is forked, not executed, so it must only make async-signal-safe calls (the shim has threads).
#define _GNU_SOURCE 1

#include "CPersonaShim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PS_GUARDIAN_MAX_GROUPS 4096

static pid_t guardian_groups[PS_GUARDIAN_MAX_GROUPS];
static int guardian_count;

// kill(-pgid, 0) fails with ESRCH once no process is left in the group; after that the number may be reused, so the
// group is forgotten and never signalled again.
static int group_exists(pid_t pgid) { return kill(-pgid, 0) == 0 || errno == EPERM; }

static void forget_empty_groups(void) {
    int kept = 0;
    for (int i = 0; i < guardian_count; i++) {
        if (group_exists(guardian_groups[i])) {
            guardian_groups[kept++] = guardian_groups[i];
        }
    }
    guardian_count = kept;
}

static void apply(int32_t message) {
    pid_t pgid = message > 0 ? message : -message;
    if (pgid <= 1) {
        return;
    }
    for (int i = 0; i < guardian_count; i++) {
        if (guardian_groups[i] == pgid) {
            if (message < 0) {
                guardian_groups[i] = guardian_groups[--guardian_count];
            }
            return;
        }
    }
    if (message > 0) {
        if (guardian_count == PS_GUARDIAN_MAX_GROUPS) {
            forget_empty_groups();
        }
        if (guardian_count < PS_GUARDIAN_MAX_GROUPS) {
            guardian_groups[guardian_count++] = pgid;
        }
    }
}

static long long now_ms(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (long long)time.tv_sec * 1000 + time.tv_nsec / 1000000;
}

__attribute__((noreturn)) static void stop_groups_and_exit(int grace_ms) {
    forget_empty_groups();
    for (int i = 0; i < guardian_count; i++) {
        (void)kill(-guardian_groups[i], SIGTERM);
        (void)kill(-guardian_groups[i], SIGCONT); // a stopped process acts on SIGTERM only once continued
    }
    long long deadline = now_ms() + grace_ms;
    while (guardian_count > 0 && now_ms() < deadline) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
        forget_empty_groups();
    }
    for (int i = 0; i < guardian_count; i++) {
        (void)kill(-guardian_groups[i], SIGKILL);
    }
    _exit(0);
}

__attribute__((noreturn)) static void guardian_run(int fd, int grace_ms) {
    unsigned char buffer[4096];
    size_t held = 0;
    for (;;) {
        struct pollfd watch = {fd, POLLIN, 0};
        int ready = poll(&watch, 1, 1000);
        if (ready == 0) {
            forget_empty_groups();
            continue;
        }
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            stop_groups_and_exit(grace_ms);
        }
        ssize_t got = read(fd, buffer + held, sizeof buffer - held);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (got <= 0) {
            // EOF: every copy of the write end is closed, so the shim has exited, however it ended.
            stop_groups_and_exit(grace_ms);
        }
        held += (size_t)got;
        size_t used = 0;
        while (held - used >= sizeof(int32_t)) {
            int32_t message;
            memcpy(&message, buffer + used, sizeof message);
            apply(message);
            used += sizeof message;
        }
        memmove(buffer, buffer + used, held - used);
        held -= used;
    }
}

int ps_guardian_start(int grace_ms, int *out_write_fd, pid_t *out_pid) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        return errno;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        // Its own group, so a signal meant for the shim's group (Ctrl-C, a client stopping the group) leaves it to
        // do its job; no descriptor of the shim's (above all not the agent's pipes, whose EOF the agent waits for).
        (void)setpgid(0, 0);
        // Named for ps(1), and out of the shim's working directory so it keeps no mount busy.
        (void)prctl(PR_SET_NAME, "persona-guard", 0, 0, 0);
        (void)chdir("/");
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0 || dup2(fds[0], 3) < 0) {
            _exit(127);
        }
        (void)dup2(devnull, 0);
        (void)dup2(devnull, 1);
        (void)dup2(devnull, 2);
        int fd = 3;
#ifdef SYS_close_range
        if (syscall(SYS_close_range, 4U, ~0U, 0) != 0)
#endif
        {
            for (int other = 4; other < 65536; other++) {
                (void)close(other);
            }
        }
        // The shim's handlers would write to the shim's signal pipe (closed here). Signals that ask a process to
        // stop are ignored: the guardian stops when its work is done, and only SIGKILL ends it sooner.
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (int sig = 1; sig < NSIG; sig++) {
            if (sig != SIGKILL && sig != SIGSTOP) {
                (void)sigaction(sig, &dfl, NULL);
            }
        }
        struct sigaction ignore;
        memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        int ignored[] = {SIGINT, SIGHUP, SIGPIPE, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU};
        for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
            (void)sigaction(ignored[i], &ignore, NULL);
        }
        sigset_t empty;
        sigemptyset(&empty);
        (void)sigprocmask(SIG_SETMASK, &empty, NULL);
        guardian_run(fd, grace_ms);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(fds[0]);
    if (pid < 0) {
        close(fds[1]);
        return fork_errno;
    }
    *out_write_fd = fds[1];
    *out_pid = pid;
    return 0;
}

int ps_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int ps_pidfd_send_signal(int pidfd, int signo) {
#ifdef SYS_pidfd_send_signal
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int ps_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int ps_forbid_tracing(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

int ps_reap_orphans(const pid_t *known, int known_count) {
    int reaped = 0;
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        // WNOWAIT: look first, so that a server's own exit is left for whoever records it.
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) {
            return reaped;
        }
        for (int i = 0; i < known_count; i++) {
            if (known[i] == info.si_pid) {
                return reaped;
            }
        }
        int status;
        if (waitpid(info.si_pid, &status, WNOHANG) != info.si_pid) {
            return reaped;
        }
        reaped++;
    }
}
