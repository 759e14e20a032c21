/*
 * matrix.h: `eddy matrix`: several node commands against several scenarios, one table.
 * Depends on: run, scenario, cli. Used by: main, mangen.
 */
#ifndef EDDY_SIM_MATRIX_H
#define EDDY_SIM_MATRIX_H

#include <stdio.h>

/* Runs the matrix described by the arguments after `eddy matrix`; returns the exit status. */
int matrix_main(int argc, char **argv);

/* `eddy matrix --help`; also the man page's section on it (mangen.c). */
void matrix_print_usage(FILE *f);

#endif /* EDDY_SIM_MATRIX_H */
