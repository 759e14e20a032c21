/*
 * alloc.h: allocation that never returns NULL.
 *
 * Running out of memory is not an error eddy tries to recover from: every buffer has a stated
 * maximum, so an allocation failure means the machine is exhausted and the run is meaningless.
 * These wrappers print one line and abort. A NULL pointer in eddy therefore always means
 * "absent", never "failed".
 * Depends on: util. Used by: everything that allocates.
 */
#ifndef EDDY_ALLOC_H
#define EDDY_ALLOC_H

#include <stddef.h>

/* Each returns memory the caller owns (release with free()), or aborts. Sizes of 0 are allowed
 * and return a unique pointer. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);

/* Registers xmalloc & co as cJSON's allocator so that a NULL from cJSON_Create* also means an
 * invalid argument, never memory exhaustion. Call once at start-up. */
void alloc_install_cjson_hooks(void);

#endif /* EDDY_ALLOC_H */
