# Toolchain file: bare-metal Arm with Debian's arm-none-eabi-gcc (12.2) and
# newlib. CPU flags come from the board (boards/<board>/board.cmake).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

find_program(MYOEDGE_ARM_GCC arm-none-eabi-gcc)
if(NOT MYOEDGE_ARM_GCC)
  message(FATAL_ERROR "arm-none-eabi-gcc not found: install the Debian packages "
                      "gcc-arm-none-eabi and libnewlib-arm-none-eabi")
endif()
get_filename_component(_arm_bin "${MYOEDGE_ARM_GCC}" DIRECTORY)

set(CMAKE_C_COMPILER "${_arm_bin}/arm-none-eabi-gcc")
set(CMAKE_ASM_COMPILER "${_arm_bin}/arm-none-eabi-gcc")
set(CMAKE_OBJCOPY "${_arm_bin}/arm-none-eabi-objcopy" CACHE FILEPATH "objcopy")
set(CMAKE_SIZE "${_arm_bin}/arm-none-eabi-size" CACHE FILEPATH "size")

# No host executables can run: test the compiler with a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
