/*
 * afe_harness.c - drives afe_ads1298.c against the simulated chips and prints
 * what happened, one "key value..." line each, for tests/test_firmware_afe.py.
 *
 * Usage: afe_harness SCENARIO, SCENARIO one of: init2, frames2, frames1,
 * wrong_id, bad_status, overrun, bad_args, refuse_writes.
 */
#include <stdio.h>
#include <string.h>

#include "afe_ads1298.h"
#include "ads1298_sim.h"

static mye_afe_t afe;

static const int32_t CODES_A[8] = {0, 1, -1, 8388607, -8388608, 123456, -654321, 4194304};
static const int32_t CODES_B[8] = {-2, 2, 1000, -1000, 7, -7, 3000000, -3000000};

static mye_afe_config_t config(uint32_t chips)
{
    mye_afe_config_t c = {chips, 2000u, 6u, 0u, 1.0e6f}; /* units: microvolts */
    return c;
}

static void print_regs(void)
{
    for (int chip = 0; chip < 2; ++chip) {
        printf("regs%d", chip + 1);
        for (int r = 0; r < SIM_REGS; ++r) {
            printf(" %02x", sim.regs[chip][r]);
        }
        printf("\n");
    }
}

static void print_samples(int rc, const float *out, int n)
{
    printf("poll %d", rc);
    for (int i = 0; i < n; ++i) {
        printf(" %.9g", (double)out[i]);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *scenario = argc > 1 ? argv[1] : "";
    float out[16];
    int rc;
    sim_reset_state(ADS1298_ID_VALUE);

    if (strcmp(scenario, "bad_args") == 0) {
        mye_afe_config_t c = config(2);
        c.gain = 5u;
        printf("gain5 %d\n", mye_afe_init(&afe, &c));
        c = config(2);
        c.sample_rate_hz = 200u;
        printf("rate200 %d\n", mye_afe_init(&afe, &c));
        c = config(3);
        printf("chips3 %d\n", mye_afe_init(&afe, &c));
        c = config(2);
        c.units_per_volt = -1.0f;
        printf("units %d\n", mye_afe_init(&afe, &c));
        printf("commands %d\n", sim.command_count);
        return 0;
    }
    if (strcmp(scenario, "wrong_id") == 0) {
        sim_reset_state(0x90u); /* an ADS1296 (6 channels) */
        mye_afe_config_t c = config(2);
        printf("init %d\n", mye_afe_init(&afe, &c));
        printf("start %d\n", sim.start_pin);
        return 0;
    }
    if (strcmp(scenario, "refuse_writes") == 0) {
        sim.refuse_writes = 1;
        mye_afe_config_t c = config(2);
        printf("init %d\n", mye_afe_init(&afe, &c));
        return 0;
    }

    const uint32_t chips = strcmp(scenario, "frames1") == 0 ? 1u : 2u;
    mye_afe_config_t c = config(chips);
    if (strcmp(scenario, "frames1") == 0) {
        c.gain = 12u;
        c.vref_4v = 1u;
        c.sample_rate_hz = 250u;
    }
    rc = mye_afe_init(&afe, &c);
    printf("init %d\n", rc);
    printf("mode rdatac=%d start=%d reset=%d drdy=%d\n", sim.rdatac, sim.start_pin, sim.reset_pin,
           sim.drdy_handler != NULL);
    printf("timing powered=%lld first_command=%lld reset_pulses=%d\n", (long long)sim.powered_at_us,
           (long long)sim.first_command_us, sim.reset_pulses);
    printf("ignored_in_rdatac %d bytes_without_cs %d\n", sim.ignored_in_rdatac, sim.bytes_without_cs);
    printf("commands");
    for (int i = 0; i < sim.command_count && i < SIM_MAX_LOG; ++i) {
        printf(" %02x", sim.commands[i]);
    }
    printf("\n");
    print_regs();

    sim_set_frame(0, 0xC00000u, CODES_A);
    sim_set_frame(1, 0xC12345u, CODES_B);
    printf("before %d\n", mye_afe_poll(&afe, out)); /* no DRDY yet */
    if (strcmp(scenario, "bad_status") == 0) {
        sim.frame[27] = 0x00u; /* chip 2's status lost its 1100 header */
        sim_data_ready();
        rc = mye_afe_poll(&afe, out);
        printf("poll %d\n", rc);
        return 0;
    }
    if (strcmp(scenario, "overrun") == 0) {
        sim_data_ready();
        sim_data_ready();
        rc = mye_afe_poll(&afe, out);
        print_samples(rc, out, 16);
        printf("after %d overruns %u\n", mye_afe_poll(&afe, out), afe.overruns);
        return 0;
    }
    sim_data_ready();
    rc = mye_afe_poll(&afe, out);
    print_samples(rc, out, (int)(8u * chips));
    printf("status %06x %06x\n", afe.status[0], afe.status[1]);
    printf("after %d\n", mye_afe_poll(&afe, out));
    mye_afe_stop(&afe);
    printf("stopped rdatac=%d start=%d drdy=%d\n", sim.rdatac, sim.start_pin, sim.drdy_handler != NULL);
    return 0;
}
