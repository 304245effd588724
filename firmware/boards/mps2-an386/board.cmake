# mps2-an386: Arm MPS2 with the AN386 Cortex-M4 FPGA image, emulated by QEMU.
# The default board. Memory sizes live in board.ld.
set(MYOEDGE_BOARD_CORE "Cortex-M4F")
set(MYOEDGE_BOARD_CPU_FLAGS -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
set(MYOEDGE_BOARD_CLOCK_HZ 25000000)      # SysTick / CPU clock QEMU models
set(MYOEDGE_BOARD_QEMU_MACHINE mps2-an386)
set(MYOEDGE_BOARD_ICOUNT_SHIFT 3)          # 8 ns per instruction: 5 instructions per 40 ns tick
set(MYOEDGE_BOARD_REAL OFF)
# QEMU has no ADS1298: the front end is a software model of the chip on the SPI bus.
set(MYOEDGE_BOARD_EXTRA_SOURCES "${CMAKE_CURRENT_LIST_DIR}/../ads1298_model.c;${CMAKE_CURRENT_LIST_DIR}/../afe_emulated.c")
