/* INCRBYFLOAT arithmetic in C `long double`, the type Redis computes it in,
 * so results and their text match Redis digit for digit on the same
 * platform (x87 80-bit on x86_64). Operands were validated by the caller. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Writes cur + incr as "%.17Lf" into out. Returns the length written,
 * -1 when the sum is not finite, -2 when out is too small. */
int redcore_ld_add(const char *cur, const char *incr, char *out, int cap) {
    long double sum = strtold(cur, NULL) + strtold(incr, NULL);
    if (isnan(sum) || isinf(sum)) return -1;
    int len = snprintf(out, (size_t)cap, "%.17Lf", sum);
    if (len < 0 || len >= cap) return -2;
    return len;
}
