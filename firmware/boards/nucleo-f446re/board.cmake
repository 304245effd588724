# nucleo-f446re: ST NUCLEO-F446RE (STM32F446RE, Cortex-M4F) - real hardware,
# 180 MHz from HSI through the PLL, USART2 on PA2/PA3 (ST-LINK virtual COM
# port), DWT cycle counter, IWDG watchdog. Builds here, runs on the desk.
set(MYOEDGE_BOARD_CORE "Cortex-M4F")
set(MYOEDGE_BOARD_CPU_FLAGS -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard)
set(MYOEDGE_BOARD_CLOCK_HZ 180000000)
set(MYOEDGE_BOARD_REAL ON)
