// Linux interfaces that the toolchain's Glibc module does not export: epoll, eventfd, accept4, malloc_trim.
// Only KonnectHTTP imports this module.
#include <sys/epoll.h>
#include <sys/eventfd.h>

// accept4 is declared by <sys/socket.h> only under _GNU_SOURCE, which the Glibc module is built without.
// Including <sys/socket.h> here would claim its declarations for this module and hide them from Glibc,
// so the address is taken as `void *` (callers pass nil) and the length as socklen_t's type.
extern int accept4(int fd, void *address, unsigned int *length, int flags);

// malloc_trim is declared in <malloc.h>, which the Glibc module does not include: after thousands of
// connections close, the server hands the freed pages back to the kernel.
#include <stddef.h>
extern int malloc_trim(size_t pad);

// setns is declared by <sched.h> only under _GNU_SOURCE: a node joins its network namespace ("host")
// at start, and the operator's clients open sockets inside the operator's namespace.
extern int setns(int fd, int nstype);
