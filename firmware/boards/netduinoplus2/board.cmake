# netduinoplus2: Netduino Plus 2 (STM32F405RG, Cortex-M4F), emulated by QEMU,
# and the same port on a real STM32F405 board (USART1 on PA9/PA10).
set(MYOEDGE_BOARD_CORE "Cortex-M4F")
set(MYOEDGE_BOARD_CPU_FLAGS -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
set(MYOEDGE_BOARD_CLOCK_HZ 168000000)     # QEMU's STM32F405 system clock
set(MYOEDGE_BOARD_QEMU_MACHINE netduinoplus2)
set(MYOEDGE_BOARD_ICOUNT_SHIFT 0)          # 1 ns per instruction: 125/21 instructions per tick
set(MYOEDGE_BOARD_REAL OFF)
# Under QEMU there is no ADS1298: the front end is a software model of the chip on the SPI bus.
set(MYOEDGE_BOARD_EXTRA_SOURCES "${CMAKE_CURRENT_LIST_DIR}/../ads1298_model.c;${CMAKE_CURRENT_LIST_DIR}/../afe_emulated.c")
