# cmake -DDDRR=<ddrr> -DTEMPLATE=<ddrr-completion.bash.in> -DOUTPUT=<file> -P DdrrCompletion.cmake
# Writes ddrr's bash completion from `ddrr --command-table`: the commands, each one's options,
# and which options take a value.
include(${CMAKE_CURRENT_LIST_DIR}/DdrrCommandTable.cmake)
ddrr_command_table(${DDRR} _cli)

# _names: the options' names; _valued: those that take a value.
macro(split_options options)
  set(_names "")
  set(_valued "")
  foreach(_option IN LISTS ${options})
    string(REGEX REPLACE "=$" "" _name "${_option}")
    list(APPEND _names "${_name}")
    if(NOT _name STREQUAL _option)
      list(APPEND _valued "${_name}")
    endif()
  endforeach()
  list(JOIN _names " " _names)
  list(JOIN _valued " " _valued)
endmacro()

split_options(_cli_OPTIONS_)
set(DDRR_TOP_OPTIONS "${_names}")
set(DDRR_COMMAND_CASES "")
foreach(_command IN LISTS _cli_COMMANDS)
  string(REPLACE " " "_" _key "${_command}")
  split_options(_cli_OPTIONS_${_key})
  string(APPEND DDRR_COMMAND_CASES "    ${_command}) opts=\"${_names}\" valued=\"${_valued}\" ;;\n")
endforeach()
list(JOIN _cli_COMMANDS " " DDRR_COMMANDS)
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)
