# ddrr_add_gtest(NAME SOURCES a_test.cc ... LIBS lib ... [PREFIX p.] [LOCK resource])
# Unit tests live beside the unit they pin (LevelDB style); each test case becomes one CTest
# entry, named PREFIX (default "NAME.") then Suite.Case, so the CTest summary counts them. LOCK
# keeps the cases from running at the same time (for tests that lay out files beside their own
# executable).
include(GoogleTest)
function(ddrr_add_gtest name)
  cmake_parse_arguments(T "" "PREFIX;LOCK" "SOURCES;LIBS" ${ARGN})
  if(NOT DDRR_BUILD_TESTS OR DDRR_FUZZ)
    return()
  endif()
  if(NOT DEFINED T_PREFIX)
    set(T_PREFIX "${name}.")
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  set(properties ENVIRONMENT "DDRR_TEST_BUILD_DIR=${PROJECT_BINARY_DIR}")
  if(T_LOCK)
    list(APPEND properties RESOURCE_LOCK ${T_LOCK})
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST TEST_PREFIX "${T_PREFIX}"
                       PROPERTIES ${properties})
endfunction()

# ddrr_add_scenarios(GROUP SCRIPT CASES case ... [ARGS arg ...] [NAME_PREFIX p] [TIMEOUT s]
#                    [SKIP_RETURN_CODE n] [LOCK resource])
# Scenario scripts (rr style): one CTest entry GROUP.<NAME_PREFIX><case> per case, running
# `bash SCRIPT case ARGS...` with SCRIPT in the calling folder. SKIP_RETURN_CODE: the exit code
# by which a case says this build or machine lacks what it needs.
function(ddrr_add_scenarios group script)
  cmake_parse_arguments(S "" "NAME_PREFIX;TIMEOUT;SKIP_RETURN_CODE;LOCK" "CASES;ARGS" ${ARGN})
  set(properties)
  foreach(p TIMEOUT SKIP_RETURN_CODE)
    if(DEFINED S_${p})
      list(APPEND properties ${p} ${S_${p}})
    endif()
  endforeach()
  if(DEFINED S_LOCK)
    list(APPEND properties RESOURCE_LOCK ${S_LOCK})
  endif()
  foreach(c ${S_CASES})
    add_test(NAME ${group}.${S_NAME_PREFIX}${c}
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/${script} ${c} ${S_ARGS})
    if(properties)
      set_tests_properties(${group}.${S_NAME_PREFIX}${c} PROPERTIES ${properties})
    endif()
  endforeach()
endfunction()
