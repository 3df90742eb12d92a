# cmake -DDDRR=<ddrr> -DHELP2MAN=<help2man> -DGZIP=<gzip> -DOUTPUT=<ddrr.1.gz> -P DdrrManPage.cmake
# ddrr.1 by help2man from `ddrr --help`, with a COMMANDS section holding each command's --help
# (the commands from `ddrr --command-table`), gzipped.
include(${CMAKE_CURRENT_LIST_DIR}/DdrrCommandTable.cmake)
ddrr_command_table(${DDRR} _cli)
set(_sections "[COMMANDS]\n")
foreach(_command IN LISTS _cli_COMMANDS)
  string(REPLACE " " ";" _args "${_command}")
  execute_process(COMMAND ${DDRR} ${_args} --help OUTPUT_VARIABLE _help RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${DDRR} ${_command} --help exited ${_rc}")
  endif()
  # Verbatim roff: backslashes escaped, a leading dot or quote made literal.
  string(REPLACE "\\" "\\e" _help "${_help}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" _help "${_help}")
  string(APPEND _sections ".SS \"ddrr ${_command}\"\n.nf\n${_help}.fi\n")
endforeach()
string(REGEX REPLACE "\\.gz$" "" _page "${OUTPUT}")
get_filename_component(_dir ${_page} DIRECTORY)
file(MAKE_DIRECTORY ${_dir})
file(WRITE ${_page}.include "${_sections}")
execute_process(
  COMMAND ${HELP2MAN} --no-info --include=${_page}.include --output=${_page}
          "--name=multi-device record and replay for NCCL/CUDA distributed training" ${DDRR}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "help2man ${DDRR} exited ${_rc}")
endif()
execute_process(COMMAND ${GZIP} -9nf ${_page} RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "gzip ${_page} exited ${_rc}")
endif()
