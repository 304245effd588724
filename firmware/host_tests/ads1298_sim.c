/*
 * ads1298_sim.c - a simulated pair of daisy-chained ADS1298 chips behind the
 * board's AFE hooks, for host tests of afe_ads1298.c.
 *
 * It decodes the SPI byte stream the way the chip does: opcodes, RREG/WREG
 * with their count byte, RDATAC / SDATAC modes (register commands are
 * ignored in RDATAC, as on the chip), and clocks out data frames (chip 1's
 * 27 bytes, then chip 2's) while in RDATAC. Both chips see the same DIN, so
 * WREG reaches both; RREG answers from chip 1 (its DOUT is the bus). It also
 * keeps the simulated time, so the test can check the power-up wait.
 */
#include "ads1298_sim.h"

#include <string.h>

#include "board.h"

sim_ads1298_t sim;

void sim_reset_state(uint8_t id)
{
    memset(&sim, 0, sizeof sim);
    sim.id = id;
    sim.rdatac = 1;
    sim.last_command_us = -1;
    sim.first_command_us = -1;
    sim.powered_at_us = -1;
    for (int chip = 0; chip < 2; ++chip) {
        sim.regs[chip][0x00] = id;
        sim.regs[chip][0x01] = 0x06u;
        sim.regs[chip][0x03] = 0x40u;
    }
}

static void chip_reset(void)
{
    for (int chip = 0; chip < 2; ++chip) {
        memset(sim.regs[chip], 0, sizeof sim.regs[chip]);
        sim.regs[chip][0x00] = sim.id;
        sim.regs[chip][0x01] = 0x06u;
        sim.regs[chip][0x03] = 0x40u;
    }
    sim.rdatac = 1; /* the chip wakes up in RDATAC */
}

void sim_set_frame(int chip, uint32_t status24, const int32_t codes[8])
{
    uint8_t *block = &sim.frame[chip * 27];
    block[0] = (uint8_t)(status24 >> 16);
    block[1] = (uint8_t)(status24 >> 8);
    block[2] = (uint8_t)status24;
    for (int ch = 0; ch < 8; ++ch) {
        uint32_t code = (uint32_t)codes[ch] & 0xFFFFFFu;
        block[3 + 3 * ch] = (uint8_t)(code >> 16);
        block[4 + 3 * ch] = (uint8_t)(code >> 8);
        block[5 + 3 * ch] = (uint8_t)code;
    }
}

void sim_data_ready(void)
{
    if (sim.start_pin && sim.drdy_handler != NULL) {
        sim.drdy_handler();
    }
}

static void log_command(uint8_t opcode)
{
    if (sim.command_count < SIM_MAX_LOG) {
        sim.commands[sim.command_count] = opcode;
    }
    sim.command_count += 1;
    if (sim.command_count == 1) {
        sim.first_command_us = sim.time_us;
    }
    sim.last_command_us = sim.time_us;
}

/* One byte on the bus: returns what DOUT carries. */
static uint8_t clock_byte(uint8_t in)
{
    if (sim.expect == SIM_EXPECT_COUNT) {
        sim.remaining = (int)in + 1;
        sim.expect = sim.reg_write ? SIM_EXPECT_WRITE : SIM_EXPECT_READ;
        return 0u;
    }
    if (sim.expect == SIM_EXPECT_WRITE) {
        if (sim.reg_address < SIM_REGS && sim.reg_address != 0x00u && !sim.refuse_writes) {
            sim.regs[0][sim.reg_address] = in; /* shared DIN: both chips take the write */
            sim.regs[1][sim.reg_address] = in;
        }
        sim.reg_address += 1u;
        if (--sim.remaining == 0) {
            sim.expect = SIM_EXPECT_OPCODE;
        }
        return 0u;
    }
    if (sim.expect == SIM_EXPECT_READ) {
        uint8_t value = sim.reg_address < SIM_REGS ? sim.regs[0][sim.reg_address] : 0u;
        sim.reg_address += 1u;
        if (--sim.remaining == 0) {
            sim.expect = SIM_EXPECT_OPCODE;
        }
        return value;
    }
    /* An opcode, or data clocking in RDATAC (zeros on DIN). */
    if (in == 0x00u) {
        if (sim.rdatac && sim.frame_pos < (int)sizeof sim.frame) {
            return sim.frame[sim.frame_pos++];
        }
        return 0u;
    }
    log_command(in);
    if ((in & 0xE0u) == 0x20u || (in & 0xE0u) == 0x40u) {
        if (sim.rdatac) {
            sim.ignored_in_rdatac += 1; /* the chip ignores register commands in RDATAC */
            return 0u;
        }
        sim.reg_write = (in & 0xE0u) == 0x40u;
        sim.reg_address = in & 0x1Fu;
        sim.expect = SIM_EXPECT_COUNT;
        return 0u;
    }
    switch (in) {
    case 0x10u: sim.rdatac = 1; break;
    case 0x11u: sim.rdatac = 0; break;
    case 0x06u: chip_reset(); break;
    default: break;
    }
    return 0u;
}

void board_afe_spi_transfer(const uint8_t *tx, uint8_t *rx, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        uint8_t in = tx != NULL ? tx[i] : 0u;
        uint8_t out = sim.selected ? clock_byte(in) : 0xFFu;
        if (!sim.selected) {
            sim.bytes_without_cs += 1;
        }
        if (rx != NULL) {
            rx[i] = out;
        }
    }
}

void board_afe_select(int selected)
{
    if (!selected && sim.selected) {
        sim.frame_pos = 0; /* a new /CS period restarts the frame */
    }
    sim.selected = selected;
}

void board_afe_start_pin(int level) { sim.start_pin = level; }

void board_afe_reset_pin(int level)
{
    if (level && !sim.reset_pin) {
        if (!sim.powered) {
            sim.powered_at_us = sim.time_us;
            sim.powered = 1;
        } else {
            chip_reset(); /* rising edge after a reset pulse */
            sim.reset_pulses += 1;
        }
    }
    sim.reset_pin = level;
}

void board_delay_us(uint32_t us) { sim.time_us += (int64_t)us; }

void board_afe_drdy_attach(void (*handler)(void)) { sim.drdy_handler = handler; }
