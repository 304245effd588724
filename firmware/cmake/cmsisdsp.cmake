# CMSIS-DSP: fetched at configure time by scripts/fetch_cmsisdsp.py (pinned
# version and sha256, cached outside git), and only the sources the firmware
# uses are compiled, into the static library `cmsisdsp`.
#
# In:  MYOEDGE_REPO_ROOT, MYOEDGE_BOARD_CPU_FLAGS
# Out: target cmsisdsp, variable CMSISDSP_ROOT

find_package(Python3 REQUIRED COMPONENTS Interpreter)

if(NOT CMSISDSP_ROOT)
  execute_process(
    COMMAND "${Python3_EXECUTABLE}" "${MYOEDGE_REPO_ROOT}/scripts/fetch_cmsisdsp.py"
    OUTPUT_VARIABLE _cmsisdsp_root
    ERROR_VARIABLE _cmsisdsp_error
    RESULT_VARIABLE _cmsisdsp_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _cmsisdsp_rc EQUAL 0)
    message(FATAL_ERROR "CMSIS-DSP could not be fetched: ${_cmsisdsp_error}")
  endif()
  set(CMSISDSP_ROOT "${_cmsisdsp_root}" CACHE PATH "unpacked cmsisdsp sdist (Include/, Source/)")
endif()

# The CMSIS-DSP functions the firmware calls, and nothing else.
set(MYOEDGE_CMSISDSP_SOURCES
  Source/FilteringFunctions/arm_biquad_cascade_df2T_f32.c
  Source/FilteringFunctions/arm_biquad_cascade_df2T_init_f32.c
)

set(_cmsisdsp_files "")
foreach(_src IN LISTS MYOEDGE_CMSISDSP_SOURCES)
  list(APPEND _cmsisdsp_files "${CMSISDSP_ROOT}/${_src}")
endforeach()

add_library(cmsisdsp STATIC ${_cmsisdsp_files})
target_include_directories(cmsisdsp SYSTEM PUBLIC
  "${CMSISDSP_ROOT}/Include"
  "${CMSISDSP_ROOT}/PrivateInclude"
  "${MYOEDGE_FIRMWARE_DIR}/include")  # our cmsis_compiler.h
# Scalar C paths everywhere (Helium's vector path on the M55 would fuse
# multiply-adds and break bit-exactness with the host reference).
target_compile_definitions(cmsisdsp PUBLIC ARM_MATH_AUTOVECTORIZE)
target_compile_options(cmsisdsp PRIVATE ${MYOEDGE_BOARD_CPU_FLAGS} ${MYOEDGE_COMMON_C_FLAGS} -w)
