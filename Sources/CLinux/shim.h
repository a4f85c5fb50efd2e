// Linux interfaces that the toolchain's Glibc module does not export: epoll, eventfd and accept4.
// Only KonnectHTTP's EventLoop imports this module.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// accept4 is declared by <sys/socket.h> only under _GNU_SOURCE, which the Glibc module is built without.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
