/*
 * errors.c: lookups in the Maelstrom error table of errors.h.
 * Depends on: errors.h. Used by: node, sim.
 */
#include "eddy/errors.h"

const char *eddy_error_name(long code)
{
    switch (code) {
#define XX(c, name, str, definite)                                                                 \
    case c:                                                                                        \
        return str;
        EDDY_ERROR_MAP(XX)
#undef XX
    default:
        return "unknown";
    }
}

bool eddy_error_definite(long code)
{
    switch (code) {
#define XX(c, name, str, definite)                                                                 \
    case c:                                                                                        \
        return definite;
        EDDY_ERROR_MAP(XX)
#undef XX
    default:
        return false;
    }
}
