# Integration tests are named <area>.<flow> and labelled "integration;<area>" (tests/README.md).
# A script with several flows lists them itself (--list-flows), and every flow becomes a ctest
# entry of its own, so one failing flow neither hides nor stops the others; a flow added to a
# script is a test after the next configure, without a second list to keep in step.
find_program(B2BUA_PYTHON3 python3 REQUIRED)

# Each flow holds one CPU slot, as one that mostly waits (tests/CMakeLists.txt); a flow that keeps
# a core busy passes PROPERTIES RESOURCE_GROUPS ${B2BUA_CPU_SLOT}.
#
# b2bua_flow_tests(<area> <script> [TIMEOUT seconds] [PROPERTIES prop value ...])
function(b2bua_flow_tests area script)
  cmake_parse_arguments(ARG "" "TIMEOUT" "PROPERTIES" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(path ${CMAKE_CURRENT_SOURCE_DIR}/${script})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
  execute_process(COMMAND ${B2BUA_PYTHON3} -B ${path} --list-flows
                  OUTPUT_VARIABLE flows ERROR_VARIABLE error RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0 OR flows STREQUAL "")
    # A script that cannot even list its flows is a failing test, not a broken configure.
    message(WARNING "${script} --list-flows failed (${rc}): ${error}")
    get_filename_component(stem ${script} NAME_WE)
    add_test(NAME ${area}.${stem} COMMAND ${B2BUA_PYTHON3} -B ${path} --list-flows)
    set_tests_properties(${area}.${stem} PROPERTIES LABELS "integration;${area}" RESOURCE_GROUPS ${B2BUA_CPU_SLOT})
    return()
  endif()
  foreach(flow IN LISTS flows)
    add_test(NAME ${area}.${flow} COMMAND ${B2BUA_PYTHON3} -B ${path} $<TARGET_FILE:b2bua> ${flow})
    set_tests_properties(${area}.${flow} PROPERTIES LABELS "integration;${area}" TIMEOUT ${ARG_TIMEOUT}
                         RESOURCE_GROUPS ${B2BUA_WAIT_SLOT} ${ARG_PROPERTIES})
  endforeach()
endfunction()
