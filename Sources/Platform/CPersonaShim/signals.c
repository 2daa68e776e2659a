// The self-pipe trick: a handler may only make async-signal-safe calls, so it just writes the signal number to a
// pipe that the poll() loop watches, and the real work happens there.

// sigaction and SA_RESTART are POSIX, hidden in strict ISO C modes.
#define _POSIX_C_SOURCE 200809L

#include "CPersonaShim.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t ps_signal_write_fd = -1;

static void ps_signal_handler(int signo) {
    // The interrupted code may be about to read errno.
    int saved_errno = errno;
    int fd = ps_signal_write_fd;
    if (fd >= 0) {
        unsigned char byte = (unsigned char)signo;
        // Non-blocking: a full pipe (EAGAIN) already holds undrained bytes that will wake the loop.
        (void)write(fd, &byte, 1);
    }
    errno = saved_errno;
}

int ps_signal_pipe_install(int write_fd) {
    static const int routed[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
    enum { routed_count = sizeof routed / sizeof routed[0] };
    struct sigaction previous[routed_count + 1];

    ps_signal_write_fd = write_fd;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = ps_signal_handler;
    sigemptyset(&action.sa_mask);
    int installed = 0;
    int err = 0;
    for (; installed < routed_count; installed++) {
        // Without SA_RESTART every blocking call in the process would need an EINTR loop. SA_NOCLDSTOP because only
        // exits matter: a stopped child is not a reason to wake up.
        action.sa_flags = SA_RESTART | (routed[installed] == SIGCHLD ? SA_NOCLDSTOP : 0);
        if (sigaction(routed[installed], &action, &previous[installed]) != 0) {
            err = errno;
            break;
        }
    }
    if (err == 0) {
        // A child closing its stdin must surface as EPIPE from write(), not kill the shim; an audit file at its
        // size limit (RLIMIT_FSIZE) as EFBIG, so the torn record can be repaired and the request refused.
        struct sigaction ignore;
        memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        if (sigaction(SIGPIPE, &ignore, &previous[routed_count]) == 0) {
            (void)sigaction(SIGXFSZ, &ignore, NULL);
            return 0;
        }
        err = errno;
    }
    for (int i = 0; i < installed; i++) {
        (void)sigaction(routed[i], &previous[i], NULL);
    }
    ps_signal_write_fd = -1;
    return err;
}
