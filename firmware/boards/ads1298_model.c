/*
 * ads1298_model.c - software model of two daisy-chained ADS1298 chips (see
 * ads1298_model.h). Both chips see the same DIN, so WREG reaches both; RREG
 * answers from chip 1 (its DOUT is the bus).
 */
#include "ads1298_model.h"

#include <string.h>

static void registers_reset(ads1298_model_t *m)
{
    for (int chip = 0; chip < 2; ++chip) {
        memset(m->regs[chip], 0, sizeof m->regs[chip]);
        m->regs[chip][0x00] = m->id;
        m->regs[chip][0x01] = 0x06u;
        m->regs[chip][0x03] = 0x40u;
    }
    m->rdatac = 1; /* the chip wakes up in RDATAC */
    m->noise_state = ADS1298_MODEL_SEED;
    m->frames_made = 0u;
    m->next_pending = 0;
}

void ads1298_model_init(ads1298_model_t *m, uint8_t id)
{
    memset(m, 0, sizeof *m);
    m->id = id;
    m->last_command_us = -1;
    m->first_command_us = -1;
    m->powered_at_us = -1;
    registers_reset(m);
}

static void put_block(uint8_t *frame, int chip, uint32_t status24, const int32_t codes[8])
{
    uint8_t *block = &frame[chip * 27];
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

void ads1298_model_set_frame(ads1298_model_t *m, int chip, uint32_t status24, const int32_t codes[8])
{
    if (chip == 0 || chip == 1) {
        put_block(m->frame, chip, status24, codes);
    }
}

void ads1298_model_synthesize(ads1298_model_t *m)
{
    const uint32_t block = m->frames_made / 256u;
    uint32_t state = m->noise_state;
    for (int chip = 0; chip < 2; ++chip) {
        int32_t codes[8];
        for (int ch = 0; ch < 8; ++ch) {
            const uint32_t k = (uint32_t)(chip * 8 + ch);
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            const int32_t noise = (int32_t)(state >> 20) - 2048;
            const int32_t amplitude = (int32_t)(1u + (block * 5u + 3u * k) % 8u);
            codes[ch] = noise * amplitude;
        }
        put_block(m->next_frame, chip, 0xC00000u, codes);
    }
    m->noise_state = state;
    m->frames_made += 1u;
    if (m->selected) {
        m->next_pending = 1; /* a read is under way: the new frame appears after it */
    } else {
        memcpy(m->frame, m->next_frame, sizeof m->frame);
    }
}

void ads1298_model_data_ready(ads1298_model_t *m)
{
    if (m->start_pin && m->drdy_handler != NULL) {
        m->drdy_handler();
    }
}

uint32_t ads1298_model_rate_hz(const ads1298_model_t *m)
{
    const uint8_t config1 = m->regs[0][0x01];
    const uint32_t dr = config1 & 7u;
    if (dr == 7u) {
        return 0u; /* reserved */
    }
    return (config1 & 0x80u) ? (32000u >> dr) : (16000u >> dr);
}

static void log_command(ads1298_model_t *m, uint8_t opcode)
{
    if (m->command_count < ADS1298_MODEL_LOG) {
        m->commands[m->command_count] = opcode;
    }
    m->command_count += 1;
    if (m->command_count == 1) {
        m->first_command_us = m->time_us;
    }
    m->last_command_us = m->time_us;
}

static uint8_t clock_byte(ads1298_model_t *m, uint8_t in)
{
    if (m->expect == ADS1298_EXPECT_COUNT) {
        m->remaining = (int)in + 1;
        m->expect = m->reg_write ? ADS1298_EXPECT_WRITE : ADS1298_EXPECT_READ;
        return 0u;
    }
    if (m->expect == ADS1298_EXPECT_WRITE) {
        if (m->reg_address < ADS1298_MODEL_REGS && m->reg_address != 0x00u && !m->refuse_writes) {
            m->regs[0][m->reg_address] = in; /* shared DIN: both chips take the write */
            m->regs[1][m->reg_address] = in;
        }
        m->reg_address += 1u;
        if (--m->remaining == 0) {
            m->expect = ADS1298_EXPECT_OPCODE;
        }
        return 0u;
    }
    if (m->expect == ADS1298_EXPECT_READ) {
        uint8_t value = m->reg_address < ADS1298_MODEL_REGS ? m->regs[0][m->reg_address] : 0u;
        m->reg_address += 1u;
        if (--m->remaining == 0) {
            m->expect = ADS1298_EXPECT_OPCODE;
        }
        return value;
    }
    /* An opcode, or data clocking in RDATAC (zeros on DIN). */
    if (in == 0x00u) {
        if (m->rdatac && m->frame_pos < (int)sizeof m->frame) {
            return m->frame[m->frame_pos++];
        }
        return 0u;
    }
    log_command(m, in);
    if ((in & 0xE0u) == 0x20u || (in & 0xE0u) == 0x40u) {
        if (m->rdatac) {
            m->ignored_in_rdatac += 1; /* the chip ignores register commands in RDATAC */
            return 0u;
        }
        m->reg_write = (in & 0xE0u) == 0x40u;
        m->reg_address = in & 0x1Fu;
        m->expect = ADS1298_EXPECT_COUNT;
        return 0u;
    }
    switch (in) {
    case 0x10u: m->rdatac = 1; break;
    case 0x11u: m->rdatac = 0; break;
    case 0x06u: registers_reset(m); break;
    default: break;
    }
    return 0u;
}

uint8_t ads1298_model_transfer(ads1298_model_t *m, uint8_t in)
{
    if (!m->selected) {
        m->bytes_without_cs += 1;
        return 0xFFu;
    }
    return clock_byte(m, in);
}

void ads1298_model_select(ads1298_model_t *m, int selected)
{
    if (!selected && m->selected) {
        m->frame_pos = 0; /* a new /CS period restarts the frame */
        if (m->next_pending) {
            memcpy(m->frame, m->next_frame, sizeof m->frame);
            m->next_pending = 0;
        }
    }
    m->selected = selected;
}

void ads1298_model_reset_pin(ads1298_model_t *m, int level)
{
    if (level && !m->reset_pin) {
        if (!m->powered) {
            m->powered_at_us = m->time_us;
            m->powered = 1;
        } else {
            registers_reset(m); /* rising edge after a reset pulse */
            m->reset_pulses += 1;
        }
    }
    m->reset_pin = level;
}
