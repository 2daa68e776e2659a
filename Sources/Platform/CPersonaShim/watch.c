#include "CPersonaShim.h"

#include <errno.h>
#include <sys/inotify.h>
#include <unistd.h>

int ps_watch_open(void) { return inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }

int ps_watch_folder(int fd, const char *path) {
    return inotify_add_watch(fd, path,
                             IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                                 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
}

int ps_watch_drain(int fd) {
    char buffer[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int any = 0;
    for (;;) {
        ssize_t count = read(fd, buffer, sizeof buffer);
        if (count > 0) {
            any = 1;
            continue;
        }
        if (count < 0 && errno == EINTR) continue;
        if (count < 0 && errno != EAGAIN) return -1;
        return any;
    }
}
