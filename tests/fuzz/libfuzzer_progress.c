/* fuzz_progress_reached() for libFuzzer builds: libFuzzer measures its own coverage. */
#include "fuzz_progress.h"

void fuzz_progress_reached(void)
{
}
