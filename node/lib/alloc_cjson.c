/*
 * alloc_cjson.c: cJSON's allocator hooks, kept apart from alloc.c so that eddy-node, which never
 * uses cJSON, does not link it (and can be built statically for the clock-fault tests).
 * Depends on: alloc, cJSON. Used by: sim.
 */
#include "eddy/alloc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static void *alloc_cjson_malloc(size_t size)
{
    return xmalloc(size);
}

void alloc_install_cjson_hooks(void)
{
    cJSON_Hooks hooks = {.malloc_fn = alloc_cjson_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
}
