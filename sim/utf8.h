/*
 * utf8.h: UTF-8 as Maelstrom's reader sees it, and as every output of eddy must be.
 *
 * Maelstrom reads a node's stdout through a Java UTF-8 Reader, which replaces each malformed
 * sequence with U+FFFD before the JSON parser sees the line: utf8_repair() does the same, one
 * U+FFFD per maximal subpart of an ill-formed sequence (the Unicode recommendation that Java's
 * and Python's decoders follow), so "x\xf1" and "x\xf2" both become "x\uFFFD", as they do there.
 * utf8_prefix() cuts text for display without splitting a character.
 * Pure: no allocation, no I/O.
 * Depends on: nothing. Used by: traffic, report, faults, proc, cli, check, run.
 */
#ifndef EDDY_SIM_UTF8_H
#define EDDY_SIM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes utf8_repair may write for n bytes of input (each bad byte becomes three). */
#define utf8_repaired_max(n) (3 * (n))

/* True when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF). NUL bytes are well-formed. */
bool utf8_valid(const char *s, size_t n);

/* Copies s[0..n) to out (room for utf8_repaired_max(n) bytes), each maximal ill-formed subpart
 * replaced with U+FFFD; with nul_too, NUL bytes as well (for C strings). Returns the length
 * written. out may not overlap s. */
size_t utf8_repair(char *out, const char *s, size_t n, bool nul_too);

/* The longest prefix of s[0..n) of at most max bytes that ends on a character boundary (it
 * never splits a well-formed sequence; ill-formed bytes count one by one). */
size_t utf8_prefix(const char *s, size_t n, size_t max);

#endif /* EDDY_SIM_UTF8_H */
