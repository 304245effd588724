/*
 * pp_harness.c - runs the firmware's preprocess.c on the host (compiled with
 * the same float32 rules) so tests can compare it with the Python reference.
 *
 * stdin:  float32 little-endian samples, MYE_PP_CHANNELS per sample, until EOF.
 * stdout: for every sample, one status byte: '.' (no window), 'W' (a window:
 *         followed by MYE_PP_WINDOW_VALUES float32 then MYE_PP_WINDOW_VALUES
 *         int8), or 'N' (non-finite sample, dropped).
 * With argument "raw": stdin holds whole raw windows (MYE_PP_WINDOW samples
 * each); each answers 'W' + the int8 window of mye_pp_raw_window_int8, or 'N'.
 */
#include <stdio.h>
#include <string.h>

#include "preprocess.h"

static mye_pp_t pp;

int main(int argc, char **argv)
{
    const int raw_mode = argc > 1 && strcmp(argv[1], "raw") == 0;
    mye_pp_init(&pp);
    if (raw_mode) {
        static float raw[MYE_PP_WINDOW * MYE_PP_CHANNELS];
        static int8_t q[MYE_PP_WINDOW_VALUES];
        while (fread(raw, sizeof raw, 1, stdin) == 1) {
            if (mye_pp_raw_window_int8(&pp, raw, q) != MYE_PP_OK) {
                fputc('N', stdout);
                continue;
            }
            fputc('W', stdout);
            fwrite(q, sizeof q, 1, stdout);
        }
        return 0;
    }
    float sample[MYE_PP_CHANNELS];
    static float values[MYE_PP_WINDOW_VALUES];
    static int8_t q[MYE_PP_WINDOW_VALUES];
    while (fread(sample, sizeof sample, 1, stdin) == 1) {
        int rc = mye_pp_push(&pp, sample);
        if (rc == MYE_PP_ERR_NOT_FINITE) {
            fputc('N', stdout);
        } else if (rc == MYE_PP_WINDOW_READY) {
            if (mye_pp_window(&pp, values) != MYE_PP_OK || mye_pp_window_int8(&pp, q) != MYE_PP_OK) {
                return 2;
            }
            fputc('W', stdout);
            fwrite(values, sizeof values, 1, stdout);
            fwrite(q, sizeof q, 1, stdout);
        } else {
            fputc('.', stdout);
        }
    }
    return 0;
}
