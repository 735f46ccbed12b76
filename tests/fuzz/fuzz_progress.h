/* The counter hook between a fuzz target and the standalone driver. */
#ifndef FUZZ_PROGRESS_H
#define FUZZ_PROGRESS_H

/* Marks the input now running as having got past the target's first rejection (for a parser of
 * JSON: it was JSON and reached the code behind the JSON parser). The driver reports the share of
 * such inputs and fails below FUZZ_MIN_REACH_PERCENT; calling it more than once per input counts
 * once. */
void fuzz_progress_reached(void);

#endif
