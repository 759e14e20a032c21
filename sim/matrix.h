/*
 * matrix.h: `eddy matrix`: several node commands against several scenarios, one table.
 * Depends on: run, scenario, cli. Used by: main.
 */
#ifndef EDDY_SIM_MATRIX_H
#define EDDY_SIM_MATRIX_H

/* Runs the matrix described by the arguments after `eddy matrix`; returns the exit status. */
int matrix_main(int argc, char **argv);

#endif /* EDDY_SIM_MATRIX_H */
