#ifndef C_PERSONA_SHIM_H
#define C_PERSONA_SHIM_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Starts `path` as a child process that leads its own process group (pgid == pid).
///
/// The child starts with an empty signal mask and every disposition at SIG_DFL, has `stdin_fd`, `stdout_fd` and
/// `stderr_fd` as its descriptors 0, 1 and 2 and no other descriptor open, and runs in `cwd_or_null` when given.
/// `argv` and `envp` are NULL-terminated. Returns 0 and stores the pid, or returns an errno: from pipe/fork, or the
/// chdir/execve failure reported by the child (which has then already been reaped).
int ps_spawn(const char *_Nonnull path,
             char *_Nullable const argv[_Nonnull],
             char *_Nullable const envp[_Nonnull],
             const char *_Nullable cwd_or_null,
             int stdin_fd,
             int stdout_fd,
             int stderr_fd,
             pid_t *_Nonnull out_pid);

/// Routes SIGINT, SIGTERM, SIGHUP and SIGCHLD to one byte (the signal number) written to `write_fd`, which must be
/// non-blocking, and ignores SIGPIPE and SIGXFSZ. Returns 0 or an errno; on failure the previous dispositions are
/// restored.
int ps_signal_pipe_install(int write_fd);

/// pipe2(2), which glibc declares only under _GNU_SOURCE. `fds` holds two ints. Returns 0 or -1 with errno set.
int ps_pipe2(int *_Nonnull fds, int flags);

/// Sets a pipe's capacity with F_SETPIPE_SZ (Linux); returns the new size or -1. Fewer, larger transfers for big
/// messages.
int ps_set_pipe_size(int fd, int size);

/// A non-blocking, close-on-exec inotify descriptor (Linux), or -1 with errno set.
int ps_watch_open(void);

/// Watches the folder `path` for files appearing, being replaced (renamed over), written and closed, removed, or
/// changing attributes. Returns the watch descriptor or -1 with errno set.
int ps_watch_folder(int fd, const char *_Nonnull path);

/// Reads and discards every queued event of watch descriptor `fd`. Returns 1 if any was queued, 0 if none, -1 with
/// errno set. Callers look again at what they watch rather than trust event details (a queue may overflow).
int ps_watch_drain(int fd);

/// memmem(3), which glibc declares only under _GNU_SOURCE: the first occurrence of `needle` in `haystack`, or NULL.
const void *_Nullable ps_memmem(const void *_Nonnull haystack, size_t haystack_length, const void *_Nonnull needle,
                                size_t needle_length);

/// The <sys/wait.h> status macros, which Swift cannot import.
int ps_wifexited(int status);
int ps_wexitstatus(int status);
int ps_wifsignaled(int status);
int ps_wtermsig(int status);

/// "KILL" for SIGKILL, or NULL for an unknown signal (glibc's sigabbrev_np, hidden behind _GNU_SOURCE).
const char *_Nullable ps_signal_abbrev(int signo);

/// "EPIPE" for EPIPE, or NULL for an unknown errno (glibc's strerrorname_np, hidden behind _GNU_SOURCE).
const char *_Nullable ps_errno_name(int errnum);

/// Forks the guardian: a process in its own group, with no descriptor of the shim's but the read end of a pipe whose
/// write end (O_CLOEXEC) is stored in `out_write_fd`. Each 4-byte native int written to it is a process group id to
/// watch (positive) or to forget (negative). When the pipe reports EOF (the shim has exited, however), the guardian
/// sends SIGTERM to every watched group that still has a process, SIGKILL after `grace_ms` to those still there,
/// and exits. It forgets empty groups (kill(-pgid, 0) fails with ESRCH) every second, never to signal them again.
/// Returns 0 or an errno.
int ps_guardian_start(int grace_ms, int *_Nonnull out_write_fd, pid_t *_Nonnull out_pid);

/// pidfd_open(2) and pidfd_send_signal(2), which glibc may lack; -1 with errno set (ENOSYS on old kernels).
int ps_pidfd_open(pid_t pid);
int ps_pidfd_send_signal(int pidfd, int signo);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are reparented to this process instead of init.
int ps_set_child_subreaper(void);

/// prctl(PR_SET_DUMPABLE, 0): processes of the same user can no longer ptrace this one or read its /proc files
/// beyond `stat`; a program it executes is dumpable again.
int ps_forbid_tracing(void);

/// Reaps children that have exited and are not in `known` (orphans adopted as a subreaper); stops at the first known
/// one, which is left for its owner. Returns how many were reaped.
int ps_reap_orphans(const pid_t *_Nullable known, int known_count);

/// A listening Unix domain stream socket at `path` (non-blocking, close-on-exec, the file made 0600). Returns 0
/// and stores the descriptor, or an errno (ENAMETOOLONG when the path does not fit a socket address).
int ps_local_listen(const char *_Nonnull path, int backlog, int *_Nonnull out_fd);

/// A blocking, close-on-exec connection to the Unix domain socket at `path`. Returns 0 and stores it, or an errno.
int ps_local_connect(const char *_Nonnull path, int *_Nonnull out_fd);

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC (retried on EINTR): a descriptor, or -1 with errno set.
int ps_local_accept(int listen_fd);

/// SO_PEERCRED: the pid and uid of the process that connected the socket, as the kernel recorded them at connect
/// time (nothing the peer says about itself). Returns 0 or an errno.
int ps_peer_credentials(int fd, pid_t *_Nonnull out_pid, uid_t *_Nonnull out_uid);

#ifdef __cplusplus
}
#endif

#endif
