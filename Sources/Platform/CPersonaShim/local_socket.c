// Unix domain sockets for the terminal approval rendezvous. In C because `struct sockaddr_un` and `struct ucred`
// (which glibc declares only under _GNU_SOURCE) are awkward or hidden from Swift.
#define _GNU_SOURCE 1

#include "CPersonaShim.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_address(const char *path, struct sockaddr_un *address) {
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof address->sun_path) {
        return ENAMETOOLONG;
    }
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path, path, length + 1);
    return 0;
}

int ps_local_listen(const char *path, int backlog, int *out_fd) {
    struct sockaddr_un address;
    int code = fill_address(path, &address);
    if (code != 0) {
        return code;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return errno;
    }
    // The socket file is made 0600 at once (its folder is 0700 already); umask is process-wide, so not touched.
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        code = errno;
        close(fd);
        return code;
    }
    if (chmod(path, 0600) != 0 || listen(fd, backlog) != 0) {
        code = errno;
        close(fd);
        unlink(path);
        return code;
    }
    *out_fd = fd;
    return 0;
}

int ps_local_connect(const char *path, int *out_fd) {
    struct sockaddr_un address;
    int code = fill_address(path, &address);
    if (code != 0) {
        return code;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    while (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        if (errno == EINTR) {
            continue;
        }
        code = errno;
        close(fd);
        return code;
    }
    *out_fd = fd;
    return 0;
}

int ps_local_accept(int listen_fd) {
    int fd;
    do {
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

int ps_peer_credentials(int fd, pid_t *out_pid, uid_t *out_uid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
        return errno;
    }
    *out_pid = credentials.pid;
    *out_uid = credentials.uid;
    return 0;
}
