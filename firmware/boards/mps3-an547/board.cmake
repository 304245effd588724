# mps3-an547: Arm MPS3 with the AN547 Cortex-M55 (Helium) image, emulated by
# QEMU; runs in the secure state from the ITCM alias at 0x10000000.
set(MYOEDGE_BOARD_CORE "Cortex-M55")
set(MYOEDGE_BOARD_CPU_FLAGS -mcpu=cortex-m55 -mthumb -mfloat-abi=hard)
set(MYOEDGE_BOARD_CLOCK_HZ 32000000)
set(MYOEDGE_BOARD_QEMU_MACHINE mps3-an547)
set(MYOEDGE_BOARD_ICOUNT_SHIFT 0)          # 1 ns per instruction: 31.25 instructions per tick
set(MYOEDGE_BOARD_REAL OFF)
